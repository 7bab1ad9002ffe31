// A child process of the gateway or of serve, between fork() and exec():
// only async-signal-safe calls there.
#pragma once

#include <sys/types.h>

#include <string>

namespace mgwsupport {

// In the child: its own process group (a stop or kill of the group reaches
// whatever it starts), SIGKILL when the forking thread dies, every signal
// unblocked and at its default. _exit(127) if `parent` is already gone.
void child_enter_own_group(pid_t parent);

// A waitpid() status in words: "exited with status 1", "killed by signal 9 (Killed)".
std::string describe_wait_status(int status);

} // namespace mgwsupport
