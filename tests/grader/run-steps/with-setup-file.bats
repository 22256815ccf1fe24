#!/usr/bin/env bats
# A file run-steps hands to Bats: it has setup_file.

setup_file() {
    export FROM_SETUP_FILE=yes
}

@test "setup_file ran first" {
    [ "$FROM_SETUP_FILE" = yes ]
}
