#!/bin/sh
# regenerate kernel/patches from the dev tree
set -e
T=${KDEV:-/root/.cache/kdev}/linux-source-6.1
P=/work/main/kernel/patches
cd $T
gen() {
	name=$1; subj=$2; desc=$3; shift 3
	{
		echo "From: Lab Kernel <lab@example.invalid>"
		echo "Subject: [PATCH] $subj"
		echo
		printf '%s\n' "$desc" | fold -s -w 72 | sed 's/ *$//'
		echo
		echo "Signed-off-by: Lab Kernel <lab@example.invalid>"
		echo "---"
		git diff --stat=72 -- "$@" | cat
		echo
		git diff -- "$@"
	} > $P/$name
	echo $name >> $P/series.new
}
rm -f $P/series.new
gen 0001-checkpoint-add-system-calls.patch "checkpoint: add the checkpoint and restart system calls" \
 "Wire checkpoint(2) and restart(2) as x86-64 system calls 451 and 452, declare them, and let them return -ENOSYS when CONFIG_CHECKPOINT is off." \
 arch/x86/entry/syscalls/syscall_64.tbl include/linux/syscalls.h kernel/sys_ni.c
gen 0002-checkpoint-add-kconfig-and-makefiles.patch "checkpoint: add CONFIG_CHECKPOINT and build kernel/checkpoint" \
 "Source kernel/checkpoint/Kconfig from init/Kconfig and build the generic code in kernel/checkpoint/ and the x86 part in arch/x86/kernel/checkpoint.c." \
 init/Kconfig kernel/Makefile arch/x86/kernel/Makefile
gen 0003-sys-add-prctl_mm_map_validate.patch "sys: add prctl_mm_map_validate() for restart" \
 "Restart sets the code, data, brk, stack, arg and env boundaries of the mm it builds. Let it check them exactly as PR_SET_MM_MAP does, through a small wrapper around the static validate_prctl_map_addr()." \
 kernel/sys.c include/linux/sched/mm.h
mv $P/series.new $P/series
