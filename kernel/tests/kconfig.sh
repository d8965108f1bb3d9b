#!/bin/sh
# usage: kconfig.sh BUILD_DIR [extra fragments]
set -e
B=$1; shift
cd ${KSRC:-${KDEV:-/root/.cache/kdev}/linux-source-6.1}
make O=$B tinyconfig >/dev/null
scripts/kconfig/merge_config.sh -m -O $B $B/.config kernel/configs/kvm_guest.config /work/main/kernel-config/base.config /work/main/kernel-config/checkpoint.config "$@" >/dev/null
make O=$B olddefconfig >/dev/null
for f in /work/main/kernel-config/base.config /work/main/kernel-config/checkpoint.config "$@"; do
  grep '^CONFIG_' $f | while read l; do grep -qx "$l" $B/.config || echo "MISSING from .config: $l ($f)"; done
done
