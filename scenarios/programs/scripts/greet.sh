#!/bin/sh
# A shell script brought in with `files:` (a whole directory); it runs with the guest's busybox sh.
echo "greet: hello $1 from $(dirname "$0")"
