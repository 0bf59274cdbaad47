// CPU, memory and process count of a native service's whole process tree (its pid and every
// descendant), from the host's process facts (platform/ProcessFacts.ts) for the dashboard. CPU % is of
// one core, like `ps` and `docker stats` per container: the tree's CPU time delta over the wall-clock
// delta between two samples.
//
// Finding the tree costs a walk: with /proc, the task list of every process in it and each thread's
// `children` file (9 files for a quiet Node service with 7 threads), where its figures are one `stat`
// file per process. So the walk is done again only when the tree may have changed: while it changed in
// the last `rewalkMs` (a service starting its children), when one of its processes ended, and every
// `rewalkMs` (10 s: a new child shows in PIDs, CPU and memory that much later at most); in between, each
// sample reads the `stat` of the processes the last walk found. The portable facts (`ps`) read every
// process at once either way, and walk each time.
import { type ProcessInfo, processFacts } from '../platform/ProcessFacts.js';

export interface ProcessTreeStats {
	/** null on the first sample of a tree (no delta yet) */
	cpuPercent: number | null;
	rssBytes: number;
	pids: number;
}

interface Tree {
	rootPid: number;
	cpuMs: number;
	atMs: number;
	/** the processes of the last walk (pid and start time) */
	members: Array<{ pid: number; startTime: string }>;
	walkedAtMs: number;
	/** when a walk last found other processes than the walk before it */
	changedAtMs: number;
}

/** Keeps the previous CPU reading of each tree so that each `sample` returns the CPU % since the last one. */
export class ProcessTreeSampler {
	private previous = new Map<string, Tree>();

	constructor(
		private readonly nowMs: () => number = () => performance.now(),
		private readonly rewalkMs = 10_000,
	) {}

	sample(roots: Record<string, number | undefined>): Record<string, ProcessTreeStats | null> {
		const result: Record<string, ProcessTreeStats | null> = {};
		for (const [key, rootPid] of Object.entries(roots)) {
			const before = this.previous.get(key);
			const known = before && before.rootPid === rootPid ? before : undefined;
			const atMs = this.nowMs();
			const read = rootPid === undefined ? null : this.read(rootPid, known, atMs);
			if (rootPid === undefined || !read || read.tree.length === 0) {
				this.previous.delete(key);
				result[key] = null;
				continue;
			}
			const { tree, walked } = read;
			const cpuMs = tree.reduce((sum, proc) => sum + proc.cpuMs, 0);
			const members = walked ? tree.map((p) => ({ pid: p.pid, startTime: p.startTime })) : known!.members;
			const changed = !known || (walked && !sameMembers(known.members, members));
			this.previous.set(key, {
				rootPid,
				cpuMs,
				atMs,
				members,
				walkedAtMs: walked ? atMs : known!.walkedAtMs,
				changedAtMs: changed ? atMs : known!.changedAtMs,
			});
			result[key] = {
				cpuPercent: known ? cpuPercent(known.cpuMs, cpuMs, atMs - known.atMs) : null,
				rssBytes: tree.reduce((sum, proc) => sum + proc.rssBytes, 0),
				pids: tree.length,
			};
		}
		for (const key of this.previous.keys()) if (!(key in roots)) this.previous.delete(key);
		return result;
	}

	/** The tree's processes: those the last walk found while none ended and no walk is due, else a walk. */
	private read(rootPid: number, known: Tree | undefined, atMs: number): { tree: ProcessInfo[]; walked: boolean } {
		const facts = processFacts();
		const settled = known && facts.kind === 'procfs' && atMs - known.changedAtMs >= this.rewalkMs && atMs - known.walkedAtMs < this.rewalkMs;
		if (settled) {
			const tree: ProcessInfo[] = [];
			for (const member of known.members) {
				const info = facts.info(member.pid);
				if (!info || info.state === 'Z' || info.startTime !== member.startTime) return { tree: facts.tree(rootPid), walked: true };
				tree.push(info);
			}
			return { tree, walked: false };
		}
		return { tree: facts.tree(rootPid), walked: true };
	}
}

function sameMembers(a: Tree['members'], b: Tree['members']): boolean {
	return a.length === b.length && a.every((m, i) => m.pid === b[i]!.pid && m.startTime === b[i]!.startTime);
}

/** Percent of one core; a tree whose processes ended between samples can lose ticks, so never < 0. */
export function cpuPercent(cpuMsBefore: number, cpuMsAfter: number, wallMs: number): number {
	if (wallMs <= 0) return 0;
	return Math.max(0, ((cpuMsAfter - cpuMsBefore) / wallMs) * 100);
}
