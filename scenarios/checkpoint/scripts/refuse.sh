#!/bin/sh
# refuse.sh WHAT ERRNO TEXT: an external checkpoint of a frozen task holding WHAT
# (filestate refuse WHAT) must fail with errno ERRNO and a logfd line containing TEXT.
# Prints "refused WHAT: LOG LINE" on success, "FAIL WHAT: ..." and exits 1 otherwise.
set -u
what=$1 errno=$2 text=$3
out=/tmp/refuse.$what
cg=/sys/fs/cgroup/unified/refuse-$what
fail() { echo "FAIL $what: $*"; cat "$out.err" "$out.ckpt" "$out.log" 2>/dev/null; exit 1; }

filestate refuse "$what" </dev/null >"$out.out" 2>"$out.err" &
pid=$!
i=0
until grep -q ready "$out.out"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "not ready"; sleep 0.1
done
mkdir -p "$cg" && echo "$pid" > "$cg/cgroup.procs" && echo 1 > "$cg/cgroup.freeze" || fail "cannot freeze"
i=0
until grep -q 'frozen 1' "$cg/cgroup.events"; do
	i=$((i + 1)); [ $i -gt 200 ] && fail "not frozen"; sleep 0.1
done
checkpoint "$pid" -o "$out.img" -l "$out.log" >"$out.ckpt" 2>&1
rc=$?
echo 0 > "$cg/cgroup.freeze"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
rmdir "$cg" 2>/dev/null
[ $rc -ne 0 ] || fail "checkpoint succeeded"
grep -q "(errno $errno)" "$out.ckpt" || fail "not errno $errno"
grep -qF -- "$text" "$out.log" || fail "no log line with '$text'"
echo "refused $what: $(grep -F -- "$text" "$out.log" | head -1)"
