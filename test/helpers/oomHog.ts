// A process inside the agent-runner container that the kernel's OOM killer ends while the container
// lives on: one process (dd's 200 MB buffer, past any test's memory limit), marked as the killer's first
// choice (oom_score_adj 1000). One process, no pipe: with `head | tail`, the writer went on allocating
// pipe buffers after the reader was killed and before its memory was freed, and the kernel then took the
// service as a second victim (the container restarted: seen in CI and here, dmesg showing both kills).
export const oomHogScript = 'echo 1000 > /proc/self/oom_score_adj && exec dd if=/dev/zero of=/dev/null bs=200M count=1';
