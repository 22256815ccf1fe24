# helper.bash - what fixture.bats loads.
helper_says() { echo "helper loaded"; }
