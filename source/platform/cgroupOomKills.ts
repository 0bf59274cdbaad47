// How many processes the kernel's OOM killer ended in a container's memory cgroup, read on this machine
// from the cgroup itself: `oom_kill` of memory.oom_control (cgroup v1, kernel 4.13+) or memory.events
// (v2). The engine-independent signal for an engine that sends no `oom` event (Podman: agentRunner/oomEvents.ts).
// The cgroup is found from the container's main pid (/proc/PID/cgroup) and must name the container's
// id: an engine in a VM (Podman machine, Docker Desktop) or another pid namespace (docker in docker)
// gives a pid that is not this machine's container, and the answer is null there.
// The engines make the cgroup afresh at each start of the container (its counter starts at 0 again).
// Watched (the dashboard, on an engine that sends no `oom` event: Podman): on cgroup v2 the kernel marks memory.events modified when a count changes,
// so inotify (fs.watch) wakes the dashboard only then. On v1, memory.oom_control sends no inotify event,
// and v1's own notification (cgroup.event_control with an eventfd) needs eventfd(2), which Node reaches
// only through a native addon: there the counter is read when the caller wakes anyway (the dashboard:
// with each sample of the container's stats stream), and by a timer only when those stop coming.
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import path from 'node:path';

const root = '/sys/fs/cgroup';

/** The counter's current value, or null when the container's cgroup is not on this machine. */
export function cgroupOomKills(pid: number, containerId: string): number | null {
	return cgroupOomCounter(pid, containerId)?.read() ?? null;
}

/** A reader of the counter bound to the container's cgroup file, or null. */
function cgroupOomCounter(pid: number, containerId: string): { read: () => number | null; v2: boolean; file: string } | null {
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
	return read() === null ? null : { read, v2: !v1, file };
}

export interface CgroupOomWatch {
	/** true when the kernel tells of a change (v2); false when `check` must be called (v1) */
	readonly notified: boolean;
	/** reads the counter and calls onChange if it moved (v1: call on a wake-up the caller has anyway) */
	check(): void;
	close(): void;
}

/**
 * Calls onChange when the container's OOM-kill counter moves, or null when its cgroup is not on this
 * machine. v2: inotify on memory.events. v1: `check` reads it, and a timer does after `idleCheckMs`
 * without a `check` (so a caller whose wake-ups stop still learns of a kill, later).
 */
export function watchCgroupOomKills(pid: number, containerId: string, onChange: () => void, idleCheckMs = 5000): CgroupOomWatch | null {
	const counter = cgroupOomCounter(pid, containerId);
	if (!counter) return null;
	let last = counter.read();
	let closed = false;
	const check = () => {
		if (closed) return;
		const now = counter.read();
		if (now === last) return;
		last = now;
		if (now !== null) onChange();
	};
	let watcher: FSWatcher | null = null;
	if (counter.v2) {
		try {
			watcher = watch(counter.file, { persistent: false }, check);
			watcher.on('error', () => watcher?.close()); // the cgroup went with its container
		} catch {
			watcher = null; // no inotify here: read it like v1
		}
	}
	const timer = watcher
		? null
		: setTimeout(function idle() {
				check();
				if (!closed) timer?.refresh();
			}, idleCheckMs);
	timer?.unref();
	return {
		notified: watcher !== null,
		check() {
			check();
			timer?.refresh(); // a check just done: the timer waits its whole time again
		},
		close() {
			closed = true;
			watcher?.close();
			if (timer) clearTimeout(timer);
		},
	};
}
