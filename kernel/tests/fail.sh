cd /tmp
mount -t cgroup2 none /sys/fs/cgroup
mkdir /sys/fs/cgroup/f
for o in S P C T; do
  rm -f /tmp/w.log; crworkload -$o -r /tmp/r -d /tmp/d < /dev/null > /tmp/w.log 2>&1 &
  W=$!
  while ! grep -q ready /tmp/w.log; do sleep 1; done
  echo $W > /sys/fs/cgroup/f/cgroup.procs
  echo 1 > /sys/fs/cgroup/f/cgroup.freeze
  sleep 1
  echo "--- -$o"
  checkpoint $W -o /tmp/x.img -l /dev/console; echo "rc=$?"
  ckptinfo /tmp/x.img > /dev/null; echo "ckptinfo rc=$?"
  kill -9 $W
  echo 0 > /sys/fs/cgroup/f/cgroup.freeze
  sleep 1
done
