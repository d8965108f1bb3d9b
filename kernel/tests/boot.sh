#!/bin/sh
# usage: boot.sh BZIMAGE INITRD [extra qemu args]
K=$1; I=$2; shift 2
timeout ${TMO:-120} qemu-system-x86_64 -accel tcg -m 512 -smp 1 -cpu max -kernel $K -initrd $I \
  -append "console=ttyS0 panic=-1 oops=panic" -nographic -no-reboot -nic none "$@" &
echo $! > ${KDEV:-/root/.cache/kdev}/qemu.pid
wait $!
