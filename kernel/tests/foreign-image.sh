cd /tmp
echo hello > /tmp/cr-self.out; touch /tmp/self.image
restart -i /img/release.image -l /dev/console; echo "rc=$?"
restart -i /img/arch.image -l /dev/console; echo "rc=$?"
ckptinfo /img/release.image | head -3
