cd /tmp
mount -t cgroup2 none /sys/fs/cgroup; mkdir /sys/fs/cgroup/f
rm -f /tmp/w.log; crworkload -m 1 -r /tmp/rf -d /tmp/df < /dev/null > /tmp/w.log 2>&1 &
W=$!
while ! grep -q ready /tmp/w.log; do sleep 1; done
echo $W > /sys/fs/cgroup/f/cgroup.procs
echo 1 > /sys/fs/cgroup/f/cgroup.freeze
sleep 1
checkpoint $W -o /tmp/wf.img
kill -9 $W
echo 0 > /sys/fs/cgroup/f/cgroup.freeze
(sleep 100; echo "=== ps at 100s"; ps -o pid,stat,comm,args | grep -v "\["; cat /proc/*/wchan 2>/dev/null | sort | uniq -c | sort -rn | head; for p in $(pidof ckptfuzz) ; do echo "pid $p"; cat /proc/$p/stack 2>/dev/null; cat /proc/$p/wchan; echo; done) &
ckptfuzz /tmp/wf.img -n 300 -s 5 -c -t 1 | tail -3
