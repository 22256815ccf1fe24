#!/usr/bin/env bash
# setup.sh - Gradescope runs this once, as root, when it builds the
# autograder's image (choose the Ubuntu 24.04 base image: its Bats is
# recent enough; on 22.04 a recent Bats comes from npm instead).
#
# Installs what grading needs: a C compiler and make, Python 3, Bats with
# bats-support and bats-assert (whatever socklab/tests/lib/setup lists),
# and the sandbox's tools (util-linux's setpriv, prlimit and unshare;
# iproute2; procps). Then grades the skeletons of one lesson, which must
# all fail, to prove the image can grade.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential make python3 bats bats-support bats-assert \
    util-linux iproute2 procps ca-certificates
"$here/socklab/tests/lib/setup" install

# bats_load_library and BATS_TEST_TIMEOUT need Bats 1.7 or later.
version=$(bats --version | awk '{print $2}')
if [ "$(printf '%s\n1.7.0\n' "$version" | sort -V | head -n 1)" != 1.7.0 ]; then
    echo "setup.sh: Bats $version is older than 1.7: installing Bats from npm" >&2
    apt-get install -y -qq --no-install-recommends npm
    npm install -g --silent bats bats-support bats-assert
    for lib in bats-support bats-assert; do
        rm -rf "/usr/lib/bats/$lib"
        mkdir -p /usr/lib/bats
        ln -s "$(npm root -g)/$lib" "/usr/lib/bats/$lib"
    done
    hash -r
    bats --version
fi

# The image grades: every step of lesson 01's skeletons fails, as it must.
cd "$here/socklab"
python3 tests/grader/grade.py check --lesson 01 --expect fail \
    --reports /tmp/socklab-setup-check
rm -rf /tmp/socklab-setup-check build
