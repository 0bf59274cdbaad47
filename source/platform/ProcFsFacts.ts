// Process facts from /proc (Linux): see ProcessFacts.ts. The start time is field 22 of
// /proc/<pid>/stat (clock ticks after boot). A tree is found by walking down from its root through
// /proc/<pid>/task/<tid>/children (every thread: a Go service forks from any of them), not by reading
// the stat of every process on the host (≈1 % of a core on its own at one scan a second).
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { pageSize } from './pageSize.js';
import type { PortOwner, ProcessFacts, ProcessInfo } from './ProcessFacts.js';

/** Linux USER_HZ: 100 on every architecture Node runs on. */
const clockTicksPerSecond = 100;

export class ProcFsFacts implements ProcessFacts {
	readonly kind = 'procfs';

	info(pid: number): ProcessInfo | null {
		let text: string;
		try {
			text = readFileSync(`/proc/${pid}/stat`, 'latin1');
		} catch {
			return null;
		}
		// the command name (field 2) is in parentheses and may itself contain spaces and parentheses
		const close = text.lastIndexOf(')');
		const fields = text.slice(close + 2).split(' ');
		// fields[0] is field 3 (state)
		return {
			pid,
			state: fields[0] ?? '?',
			ppid: Number(fields[1]),
			pgrp: Number(fields[2]),
			cpuMs: ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond,
			startTime: fields[19] ?? '',
			rssBytes: Number(fields[21]) * pageSize(),
		};
	}

	all(): ProcessInfo[] {
		const all: ProcessInfo[] = [];
		for (const entry of readdirSync('/proc')) {
			const pid = Number(entry);
			if (!Number.isInteger(pid) || pid <= 0) continue;
			const info = this.info(pid);
			if (info) all.push(info);
		}
		return all;
	}

	tree(rootPid: number): ProcessInfo[] {
		const root = this.info(rootPid);
		if (!root || root.state === 'Z') return [];
		const tree = [root];
		const seen = new Set([rootPid]);
		for (let i = 0; i < tree.length && tree.length < 10_000; i++) {
			for (const pid of childPids(tree[i]!.pid)) {
				if (seen.has(pid)) continue;
				seen.add(pid);
				const info = this.info(pid);
				if (info && info.state !== 'Z') tree.push(info);
			}
		}
		return tree;
	}

	commandLine(pid: number): string | null {
		try {
			return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
		} catch {
			return null;
		}
	}

	commandLines(): Map<number, string> {
		const lines = new Map<number, string>();
		for (const pid of listPids()) {
			const line = this.commandLine(pid);
			if (line) lines.set(pid, line);
		}
		return lines;
	}

	withEnv(name: string, value: string): number[] {
		const wanted = Buffer.from(`${name}=${value}\0`);
		const found: number[] = [];
		for (const pid of listPids()) {
			let environ: Buffer;
			try {
				environ = readFileSync(`/proc/${pid}/environ`);
			} catch {
				continue;
			}
			const at = environ.indexOf(wanted);
			if (at === 0 || (at > 0 && environ[at - 1] === 0)) found.push(pid);
		}
		return found;
	}

	envValue(pid: number, name: string): string | null {
		try {
			const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
				.split('\0')
				.find((e) => e.startsWith(`${name}=`));
			return entry === undefined ? null : entry.slice(name.length + 1);
		} catch {
			return null;
		}
	}

	/** /proc/net/tcp{,6} gives the socket inode of a LISTEN entry, /proc/<pid>/fd links give its owner. */
	portOwner(port: number): PortOwner | null {
		const inodes = listeningInodes(port);
		if (inodes.size === 0) return null;
		const pid = listPids().find((p) => holdsSocket(p, inodes));
		return pid === undefined ? null : { pid, command: this.commandLine(pid) ?? '' };
	}

	listenerAmong(port: number, pids: number[]): boolean | null {
		const inodes = listeningInodes(port);
		if (inodes.size === 0) return null;
		return pids.some((pid) => holdsSocket(pid, inodes));
	}
}

function childPids(pid: number): number[] {
	let tasks: string[];
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return [];
	}
	const children: number[] = [];
	for (const tid of tasks) {
		try {
			for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (child) children.push(Number(child));
		} catch {
			// the thread ended
		}
	}
	return children;
}

function listeningInodes(port: number): Set<string> {
	const inodes = new Set<string>();
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let text = '';
		try {
			text = readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length < 10) continue;
			const localPort = Number.parseInt(cols[1]!.split(':')[1] ?? '', 16);
			if (localPort === port && cols[3] === '0A') inodes.add(cols[9]!);
		}
	}
	return inodes;
}

/** Whether process `pid` has one of the socket `inodes` open (its /proc/<pid>/fd links). */
function holdsSocket(pid: number, inodes: Set<string>): boolean {
	let fds: string[];
	try {
		fds = readdirSync(`/proc/${pid}/fd`);
	} catch {
		return false;
	}
	for (const fd of fds) {
		let target = '';
		try {
			target = readlinkSync(`/proc/${pid}/fd/${fd}`);
		} catch {
			continue;
		}
		const m = /^socket:\[(\d+)\]$/.exec(target);
		if (m && inodes.has(m[1]!)) return true;
	}
	return false;
}

function listPids(): number[] {
	try {
		return readdirSync('/proc')
			.filter((d) => /^\d+$/.test(d))
			.map(Number);
	} catch {
		return [];
	}
}
