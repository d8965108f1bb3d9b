echo "=== fuzz"
cd /tmp
rm -f /tmp/cr-self.out
/samples/self_checkpoint > /tmp/fz.image &
sleep 4
kill %1
ckptfuzz /tmp/fz.image -n 600 -s 7 | tail -3
echo "fuzz rc=$?"
echo "=== fuzz external image (crworkload 1M)"
umount /tmp/fz 2>/dev/null
rm -f /tmp/w.log; crworkload -m 1 -r /tmp/rf -d /tmp/df < /dev/null > /tmp/w.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w.log; do sleep 1; done
echo $W > /sys/fs/cgroup/f/cgroup.procs
echo 1 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
checkpoint $W -o /tmp/wf.img
kill -9 $W
echo 0 > /sys/fs/cgroup/f/cgroup.freeze
ckptfuzz /tmp/wf.img -n 300 -s 3 | tail -3
echo "fuzz2 rc=$?"
echo 1 > /proc/sys/kernel/ckpt_unpriv_allowed
mount -t debugfs none /sys/kernel/debug 2>/dev/null
if [ -e /sys/kernel/debug/kmemleak ]; then echo scan > /sys/kernel/debug/kmemleak; sleep 5; echo scan > /sys/kernel/debug/kmemleak; echo "kmemleak:"; cat /sys/kernel/debug/kmemleak | head -60; fi
