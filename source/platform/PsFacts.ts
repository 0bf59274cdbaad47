// Process facts from `ps` and `lsof` (macOS, the BSDs, any Linux without /proc): see ProcessFacts.ts.
// Only options that procps (Linux) and BSD ps share; the C locale so that `lstart` reads the same
// everywhere. The start time is `lstart` (one-second resolution: enough to tell a reused pid, which
// takes a full cycle of the pid space). CPU time is `time`: hundredths of a second on BSD ps, whole
// seconds on procps. Where `ps` itself cannot run, a pid that answers signal 0 counts as alive.
import type { PortOwner, ProcessFacts, ProcessInfo } from './ProcessFacts.js';
import { childProcess } from '../lazyBuiltins.js';
const fields = 'pid=,ppid=,pgid=,stat=,rss=,time=,lstart=';
const env = { ...process.env, LC_ALL: 'C' };

/** stdout of a successful run; null when it exits non-zero (no such process, nothing found); throws when it cannot run. */
function run(program: string, args: string[]): string | null {
	try {
		return childProcess().execFileSync(program, args, {
			encoding: 'utf8',
			env,
			stdio: ['ignore', 'pipe', 'ignore'],
			timeout: 10_000,
			maxBuffer: 64 * 1024 * 1024,
		});
	} catch (error) {
		if ((error as { status?: number | null }).status != null && (error as NodeJS.ErrnoException).code !== 'ENOENT') return null;
		throw error;
	}
}

/** `[[dd-]hh:]mm:ss[.cc]` → ms */
export function parseCpuTime(text: string): number {
	const [days, clock] = text.includes('-') ? [Number(text.slice(0, text.indexOf('-'))), text.slice(text.indexOf('-') + 1)] : [0, text];
	const seconds = clock.split(':').reduce((sum, part) => sum * 60 + Number(part), 0);
	const ms = Math.round((days * 86_400 + seconds) * 1000);
	return Number.isFinite(ms) ? ms : 0;
}

/** One line of `ps -o pid=,ppid=,pgid=,stat=,rss=,time=,lstart=`; null when it does not parse. */
export function parsePsLine(line: string): ProcessInfo | null {
	const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
	if (!match) return null;
	return {
		pid: Number(match[1]),
		ppid: Number(match[2]),
		pgrp: Number(match[3]),
		state: match[4]!.charAt(0),
		rssBytes: Number(match[5]) * 1024,
		cpuMs: parseCpuTime(match[6]!),
		startTime: match[7]!.replace(/\s+/g, '_'),
	};
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

export class PsFacts implements ProcessFacts {
	readonly kind = 'ps';

	info(pid: number): ProcessInfo | null {
		if (!Number.isInteger(pid) || pid <= 0) return null;
		let out: string | null;
		try {
			out = run('ps', ['-p', String(pid), '-o', fields]);
		} catch {
			return alive(pid) ? { pid, state: 'S', ppid: 0, pgrp: 0, cpuMs: 0, startTime: '', rssBytes: 0 } : null;
		}
		const info = out === null ? null : parsePsLine(out.split('\n')[0] ?? '');
		return info?.pid === pid ? info : null;
	}

	all(): ProcessInfo[] {
		const out = run('ps', ['-A', '-o', fields]) ?? '';
		const all: ProcessInfo[] = [];
		for (const line of out.split('\n')) {
			const info = parsePsLine(line);
			if (info) all.push(info);
		}
		return all;
	}

	tree(rootPid: number): ProcessInfo[] {
		const children = new Map<number, ProcessInfo[]>();
		let root: ProcessInfo | undefined;
		for (const info of this.all()) {
			if (info.pid === rootPid) root = info;
			if (info.state === 'Z') continue;
			let siblings = children.get(info.ppid);
			if (!siblings) children.set(info.ppid, (siblings = []));
			siblings.push(info);
		}
		if (!root || root.state === 'Z') return [];
		const tree = [root];
		const seen = new Set([rootPid]);
		for (let i = 0; i < tree.length && tree.length < 10_000; i++) {
			for (const child of children.get(tree[i]!.pid) ?? []) {
				if (seen.has(child.pid)) continue;
				seen.add(child.pid);
				tree.push(child);
			}
		}
		return tree;
	}

	commandLine(pid: number): string | null {
		try {
			const out = run('ps', ['-ww', '-p', String(pid), '-o', 'command=']);
			return out === null ? null : out.replace(/\n$/, '').trim();
		} catch {
			return null;
		}
	}

	commandLines(): Map<number, string> {
		const lines = new Map<number, string>();
		for (const row of (run('ps', ['-ww', '-A', '-o', 'pid=,command=']) ?? '').split('\n')) {
			const m = /^\s*(\d+)\s+(.*)$/.exec(row);
			if (m) lines.set(Number(m[1]), m[2]!.trim());
		}
		return lines;
	}

	/** `ps e` appends the environment to the command line (procps and BSD alike); a value holding a space is not found. */
	withEnv(name: string, value: string): number[] {
		const found: number[] = [];
		const token = ` ${name}=${value}`;
		for (const row of (run('ps', ['eww', '-A', '-o', 'pid=,command=']) ?? '').split('\n')) {
			const m = /^\s*(\d+)\s+(.*)$/.exec(row);
			if (!m) continue;
			const at = m[2]!.indexOf(token);
			if (at !== -1 && [' ', undefined].includes(m[2]![at + token.length])) found.push(Number(m[1]));
		}
		return found;
	}

	envValue(pid: number, name: string): string | null {
		const line = run('ps', ['eww', '-p', String(pid), '-o', 'command=']) ?? '';
		return new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1] ?? null;
	}

	listenerAmong(port: number, pids: number[]): boolean | null {
		const owner = this.portOwner(port);
		return owner === null ? null : pids.includes(owner.pid);
	}

	/** `lsof` lists the listening socket's process; null when lsof is missing or finds none. */
	portOwner(port: number): PortOwner | null {
		let out: string | null;
		try {
			out = run('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fp']);
		} catch {
			return null;
		}
		const pid = Number(/^p(\d+)$/m.exec(out ?? '')?.[1]);
		return pid > 0 ? { pid, command: this.commandLine(pid) ?? '' } : null;
	}
}
