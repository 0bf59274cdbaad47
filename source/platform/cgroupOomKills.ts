// How many processes the kernel's OOM killer ended in a container's memory cgroup, read on this machine
// from the cgroup itself: `oom_kill` of memory.oom_control (cgroup v1, kernel 4.13+) or memory.events
// (v2). The engine-independent signal for an engine that sends no `oom` event (Podman: agentRunner/oomEvents.ts).
// The cgroup is found from the container's main pid (/proc/PID/cgroup) and must name the container's
// id: an engine in a VM (Podman machine, Docker Desktop) or another pid namespace (docker in docker)
// gives a pid that is not this machine's container, and the answer is null there.
// The engines make the cgroup afresh at each start of the container (its counter starts at 0 again).
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = '/sys/fs/cgroup';

/** The counter's current value, or null when the container's cgroup is not on this machine. */
export function cgroupOomKills(pid: number, containerId: string): number | null {
	return cgroupOomCounter(pid, containerId)?.() ?? null;
}

/** A reader of the counter bound to the container's cgroup file (the dashboard reads it every second), or null. */
export function cgroupOomCounter(pid: number, containerId: string): (() => number | null) | null {
	if (!(pid > 0) || !containerId) return null;
	let lines: string[];
	try {
		lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
	} catch {
		return null;
	}
	const v1 = lines.map((l) => /^\d+:([^:]*):(.*)$/.exec(l)).find((m) => m?.[1]?.split(',').includes('memory'));
	const v2 = lines.map((l) => /^0::(.*)$/.exec(l)).find(Boolean);
	const dir = v1 ? path.join(root, 'memory', v1[2]!) : v2 ? path.join(root, v2[1]!) : null;
	if (!dir?.includes(containerId)) return null;
	const file = path.join(dir, v1 ? 'memory.oom_control' : 'memory.events');
	const read = () => {
		try {
			const match = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'));
			return match ? Number(match[1]) : null;
		} catch {
			return null; // the container stopped: its cgroup is gone
		}
	};
	return read() === null ? null : read;
}
