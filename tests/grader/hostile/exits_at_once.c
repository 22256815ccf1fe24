/*
 * exits_at_once.c - hostile server: returns 3 before doing anything.
 *
 * What it does to the grader: every server step must notice at once (not
 * at a timeout) that it "exited with status 3 before it printed
 * 'listening on HOST:PORT'".
 */
int main(void) {
    return 3;
}
