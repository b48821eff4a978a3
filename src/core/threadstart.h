/* threadstart: every Python thread registers itself as it starts.
 *
 * While a session runs, _thread.start_new_thread (and on 3.13 _thread.start_joinable_thread,
 * which threading uses) are replaced, in _thread and in threading's cached copies, by functions
 * that give the original a stand-in callable. In the new thread, before any bytecode of it runs,
 * the stand-in registers the thread with the helper (its record and CPU-time timer, made by the
 * thread for itself), then calls the thread's function; as the thread exits (a thread-specific
 * key's destructor, helper.c), it hands over its final CPU time. So a thread of any lifetime is measured, and its clock is read
 * to its end. Threads started otherwise (from C, or through a copy of the start function taken
 * before the session) are left to the helper's scan of /proc/self/task.
 * Owns: the stand-in type, replacing the start functions and putting the originals back.
 * Never: measures anything itself; keeps a thread's record past its leave; replaces a start
 * function someone else has replaced since (that one is left as it is).
 * Talks to: module (install, uninstall), helper (starting, arriving, leaving), frames (the
 * thread's PyThreadState). */
#ifndef HEATLINE_THREADSTART_H
#define HEATLINE_THREADSTART_H

/* With the GIL, once a session runs: 0, or -1 with a Python exception. Once per session;
 * installed already (in a forked child, say): nothing to do. */
int threadstart_install(void);
/* With the GIL, before the session stops: the originals back where ours still are. */
void threadstart_uninstall(void);

#endif
