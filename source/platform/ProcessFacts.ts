// Facts about host processes, behind one interface with two implementations (issue 11, "No /proc"):
//   - ProcFsFacts reads /proc (Linux): cheap, no child process, 10 ms CPU resolution;
//   - PsFacts runs `ps` and `lsof` (macOS and the BSDs, and any Linux without /proc): portable, slower.
// The /proc one is used where /proc exists; STIGMER_PROCESS_FACTS=ps (or =procfs) forces one, so CI runs
// the supervisor and lock tests with the portable one on Linux too.
//
// A process is identified by its pid together with its start time: a pid can be reused by an unrelated
// process, a (pid, start time) pair cannot. The start time is an opaque token of the implementation
// that read it (clock ticks after boot from /proc, `ps -o lstart` otherwise); processes that compare
// tokens (the CLI, the supervisor, the state and lock files) run with the same implementation.
import { existsSync } from 'node:fs';
import { ProcFsFacts } from './ProcFsFacts.js';
import { PsFacts } from './PsFacts.js';

export interface ProcessInfo {
	pid: number;
	/** R, S, D, Z (zombie), T, … (the first letter of `ps -o stat`) */
	state: string;
	ppid: number;
	pgrp: number;
	/** user + system CPU time so far, ms */
	cpuMs: number;
	/** opaque: equal for the same process, different for a later one with the same pid; '' when unknown */
	startTime: string;
	/** resident set size, bytes */
	rssBytes: number;
}

export interface PortOwner {
	pid: number;
	command: string;
}

export interface ProcessFacts {
	readonly kind: 'procfs' | 'ps';
	/** The process `pid` (zombies included), or null when there is none. */
	info(pid: number): ProcessInfo | null;
	/** Every process visible to this user. */
	all(): ProcessInfo[];
	/** The root and its live (non-zombie) descendants, root first; empty when the root is gone. */
	tree(rootPid: number): ProcessInfo[];
	/** Its arguments joined by single spaces, or null when it cannot be read. */
	commandLine(pid: number): string | null;
	/** The local process that listens on TCP `port`, null when none (or it cannot be told). */
	portOwner(port: number): PortOwner | null;
	/** Whether one of `pids` holds the socket listening on TCP `port`; null when that cannot be told. Cheaper than portOwner. */
	listenerAmong(port: number, pids: number[]): boolean | null;
	/** Every readable process's command line (arguments joined by single spaces), by pid. */
	commandLines(): Map<number, string>;
	/** Pids of the processes whose environment holds `name` = `value` (only those whose environment can be read). */
	withEnv(name: string, value: string): number[];
	/** The value of `name` in the environment of `pid`, null when unset or unreadable. */
	envValue(pid: number, name: string): string | null;
}

export type ProcessFactsKind = ProcessFacts['kind'];

let chosen: ProcessFacts | undefined;

/** The implementation for this host (or the one STIGMER_PROCESS_FACTS names), chosen once. */
export function processFacts(): ProcessFacts {
	return (chosen ??= createProcessFacts(process.env.STIGMER_PROCESS_FACTS));
}

export function createProcessFacts(forced: string | undefined, hasProcFs = existsSync('/proc/self/stat')): ProcessFacts {
	if (forced === 'ps') return new PsFacts();
	if (forced === 'procfs') return new ProcFsFacts();
	if (forced) throw new Error(`STIGMER_PROCESS_FACTS must be "procfs" or "ps", not "${forced}"`);
	return hasProcFs ? new ProcFsFacts() : new PsFacts();
}

export function processStartTime(pid: number): string | null {
	return processFacts().info(pid)?.startTime ?? null;
}

/** True when `pid` is alive (not a zombie) and, when `startTime` is given and known, still the process that started then. */
export function isSameProcess(pid: number, startTime: string | null | undefined): boolean {
	const info = processFacts().info(pid);
	if (!info || info.state === 'Z') return false;
	return startTime == null || startTime === '' || info.startTime === '' || info.startTime === startTime;
}

/** The members of process group `pgid` (zombies included). */
export function processGroupMembers(pgid: number): ProcessInfo[] {
	return processFacts()
		.all()
		.filter((p) => p.pgrp === pgid);
}

/** True when some live (non-zombie) process is in group `pgid`. */
export function processGroupAlive(pgid: number): boolean {
	try {
		process.kill(-pgid, 0);
	} catch {
		return false;
	}
	return processGroupMembers(pgid).some((member) => member.state !== 'Z');
}
