cd /tmp
mount -t cgroup2 none /sys/fs/cgroup; mkdir /sys/fs/cgroup/f
rm -f w.log; crworkload -m 64 -r /tmp/r -d /tmp/d < /dev/null > /tmp/w.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w.log; do sleep 1; done
echo $W > /sys/fs/cgroup/f/cgroup.procs; echo 1 > /sys/fs/cgroup/f/cgroup.freeze; sleep 1
time checkpoint $W -o /tmp/a.img
time sh -c "checkpoint $W | cat > /dev/null"
time dd if=/dev/zero of=/tmp/z bs=64k count=1024 2>/dev/null
time cat /tmp/a.img > /dev/null
time dd if=/tmp/a.img of=/dev/null bs=4k 2>/dev/null
rm /tmp/z
kill -9 $W; echo 0 > /sys/fs/cgroup/f/cgroup.freeze
crbench -m 64
