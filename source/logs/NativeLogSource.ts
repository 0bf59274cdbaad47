// A native service's log file (`$STIGMER_HOME/logs/<service>.log`, rotated by rename to `.log.1`…`.3`
// by the supervisor). History reads the current file through an open descriptor and the rotated files
// only when they are needed for `tail`/`since`; following continues from that very descriptor, so
// nothing is lost between the two. A rotation shows as a new inode at the path: the old descriptor is
// read to its end first, then the new file from its start. A file that shrinks was truncated: read
// again from its start. fs.watch on the logs directory wakes the reader, and a stat poll covers file
// systems where watching does not work: every 5 s while the watcher is trusted, every second once a
// poll has found lines the watcher did not report (or when there is no watcher).
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { nativeLogFile } from '../contract.js';
import { NativeLogDecoder } from './LogDecoders.js';
import type { LogLine } from './LogLine.js';
import type { LogNotice } from './LogNotice.js';

export interface NativeLogSourceOptions {
	file: string;
	service: string;
	signal: AbortSignal;
	onNotice: (notice: LogNotice) => void;
	/** how often to look when watching does not work */
	pollMs?: number;
	/** how often to look while the watcher is trusted */
	watchedPollMs?: number;
	/** while lines keep coming, the least time between two reads (default 0: each write read as it comes) */
	paceMs?: number;
}

const readChunk = 1024 * 1024;

/** Start of the last `tail` lines of buffer[0, end) that are at or after `since`; `complete` when older lines may still be wanted. */
export function tailStart(buffer: Buffer, end: number, tail: number | undefined, since: string | undefined): { start: number; count: number; complete: boolean } {
	let count = 0;
	let start = end;
	let lineEnd = end > 0 && buffer[end - 1] === 0x0a ? end - 1 : end; // the newline that ends the line (or end)
	while (start > 0) {
		if (tail !== undefined && count >= tail) return { start, count, complete: true };
		const newline = lineEnd > 0 ? buffer.lastIndexOf(0x0a, lineEnd - 1) : -1;
		const lineStart = newline + 1;
		if (since !== undefined && lineEnd - lineStart >= 30 && buffer[lineStart + 29] === 0x5a && buffer.toString('latin1', lineStart, lineStart + 30) < since) {
			return { start, count, complete: true };
		}
		count++;
		start = lineStart;
		lineEnd = newline;
	}
	return { start, count, complete: false };
}

export class NativeLogSource {
	private handle: FileHandle | null = null;
	private ino = -1;
	private position = 0;
	private decoder: NativeLogDecoder;
	private readonly pollMs: number;
	private readonly watchedPollMs: number;
	private readonly paceMs: number;
	/** follow's read buffer, allocated once: a fresh 1 MB buffer per wake-up (100 a second under a flood) is external memory that only a GC returns */
	private readBuffer: Buffer | null = null;

	constructor(private readonly options: NativeLogSourceOptions) {
		this.decoder = new NativeLogDecoder(options.service);
		this.pollMs = options.pollMs ?? 1000;
		this.watchedPollMs = Math.max(this.pollMs, options.watchedPollMs ?? 5000);
		this.paceMs = options.paceMs ?? 0;
	}

	private async openCurrent(): Promise<boolean> {
		try {
			this.handle = await open(this.options.file, 'r');
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
			throw error;
		}
		this.ino = (await this.handle.stat()).ino;
		this.position = 0;
		this.decoder = new NativeLogDecoder(this.options.service);
		return true;
	}

	/**
	 * Stored lines, oldest first. With `keepOpen` the current file stays open at the end of its last
	 * complete line, ready for follow().
	 */
	async history(tail: number | undefined, since: string | undefined, keepOpen: boolean): Promise<LogLine[]> {
		const { file, service, onNotice } = this.options;
		const exists = await this.openCurrent();
		if (!exists) {
			onNotice({ kind: 'no-log-file', service, following: keepOpen });
			return [];
		}
		const size = (await this.handle!.stat()).size;
		const current = await readRange(this.handle!, 0, size);
		// a record being written right now is left for follow()
		const completeEnd = keepOpen ? current.lastIndexOf(0x0a) + 1 : current.length;
		const parts: LogLine[][] = [];
		let wanted = tail;
		let buffer = current;
		let end = completeEnd;
		for (let generation = 0; ; ) {
			const { start, count, complete } = tailStart(buffer, end, wanted, since);
			parts.unshift(collect(buffer, start, end, service));
			if (wanted !== undefined) wanted -= count;
			if (complete || (wanted !== undefined && wanted <= 0) || ++generation > nativeLogFile.keep) break;
			try {
				buffer = await readWhole(`${file}.${generation}`);
			} catch {
				break;
			}
			end = buffer.length;
		}
		if (keepOpen) this.position = completeEnd;
		else await this.close();
		return parts.flat();
	}

	async close(): Promise<void> {
		const handle = this.handle;
		this.handle = null;
		this.readBuffer = null;
		await handle?.close().catch(() => undefined);
	}

	/** Follows the file until the signal aborts; `sink` may return a promise to slow reading down. */
	async follow(sink: (lines: LogLine[]) => Promise<void> | undefined): Promise<void> {
		const { signal, file, service, onNotice } = this.options;
		let wake: (() => void) | null = null;
		let woken = false;
		let watched = false; // the watcher reported something since the last look
		let watcherMisses = false; // a poll found lines the watcher had not reported
		let pacing: (() => void) | null = null; // ends the pace early: the signal aborted
		let paceTimer: NodeJS.Timeout | null = null;
		const nudge = () => {
			if (signal.aborted) pacing?.();
			woken = true;
			const resolve = wake;
			wake = null;
			resolve?.();
		};
		const base = path.basename(file);
		let watcher: FSWatcher | null = null;
		const startWatch = () => {
			if (watcher) return;
			try {
				watcher = watch(path.dirname(file), { persistent: false }, (_event, name) => {
					if (name === null || name.startsWith(base)) {
						watched = true;
						nudge();
					}
				});
				watcher.on('error', () => {
					watcher?.close();
					watcher = null;
				});
			} catch {
				watcher = null; // directory missing: the poll finds the file when it appears
			}
		};
		startWatch();
		let timer: NodeJS.Timeout | null = null;
		signal.addEventListener('abort', nudge, { once: true });
		// A writer that keeps writing (a flood: 100 writes a second) wakes this for each write, and each
		// wake is a stat, a read and a stat of the path. With paceMs (the dashboard, which shows lines in
		// batches of 100–200 ms anyway), a read that found lines makes the next wait until paceMs after
		// it and read what came meanwhile at once; a quiet file's first line is still read as it comes.
		let readAt = Number.NEGATIVE_INFINITY;
		const pace = async () => {
			const wait = readAt + this.paceMs - Date.now();
			if (wait <= 0 || signal.aborted) return;
			await new Promise<void>((resolve) => {
				pacing = resolve;
				paceTimer = setTimeout(resolve, wait);
			});
			pacing = null;
			if (paceTimer) clearTimeout(paceTimer);
		};
		try {
			while (!signal.aborted) {
				await pace();
				if (signal.aborted) break;
				const byWatcher = watched;
				watched = false;
				if (!this.handle && !(await this.openCurrent())) {
					startWatch();
				} else {
					const read = await this.drain(sink);
					if (read > 0) readAt = Date.now();
					if (read > 0 && !byWatcher && watcher) watcherMisses = true;
					const moved = await this.replaced();
					if (moved) {
						await this.drain(sink); // what was written before the rename
						const rest = this.decoder.flush();
						if (rest.length > 0) await sink(rest);
						await this.close();
						if (await this.openCurrent()) onNotice({ kind: 'log-rotated', service });
						continue;
					}
				}
				if (!woken) {
					timer = setTimeout(nudge, watcher && !watcherMisses ? this.watchedPollMs : this.pollMs);
					await new Promise<void>((resolve) => (wake = resolve));
					clearTimeout(timer);
				}
				woken = false;
			}
		} finally {
			if (timer) clearTimeout(timer);
			if (paceTimer) clearTimeout(paceTimer);
			(watcher as FSWatcher | null)?.close();
			await this.close();
		}
	}

	/** Reads from the position to the end of the open file (a shorter file was truncated); returns the bytes read. */
	private async drain(sink: (lines: LogLine[]) => Promise<void> | undefined): Promise<number> {
		const handle = this.handle!;
		const size = (await handle.stat()).size;
		if (size < this.position) {
			this.position = 0;
			this.decoder = new NativeLogDecoder(this.options.service);
			this.options.onNotice({ kind: 'log-truncated', service: this.options.service });
		}
		if (size === this.position) return 0;
		const buffer = (this.readBuffer ??= Buffer.allocUnsafe(readChunk));
		let total = 0;
		// up to the size just seen: what is written later wakes the next drain (no read that finds nothing)
		while (this.position < size) {
			const { bytesRead } = await handle.read(buffer, 0, readChunk, this.position);
			if (bytesRead === 0) return total;
			total += bytesRead;
			this.position += bytesRead;
			// copy: the decoder may keep a partial line, and the buffer is reused (by the next read and the next drain)
			const lines = this.decoder.push(Buffer.from(buffer.subarray(0, bytesRead)));
			if (lines.length > 0) await sink(lines);
			if (this.options.signal.aborted) return total;
		}
		return total;
	}

	/** True when the path now names another file (rotated) or nothing (being rotated, or removed). */
	private async replaced(): Promise<boolean> {
		try {
			return (await stat(this.options.file)).ino !== this.ino;
		} catch {
			return false; // between the rename and the new file: keep reading the old one
		}
	}
}

function collect(buffer: Buffer, start: number, end: number, service: string): LogLine[] {
	const decoder = new NativeLogDecoder(service);
	const out: LogLine[] = [];
	decoder.push(buffer.subarray(start, end), out);
	return decoder.flush(out);
}

async function readRange(handle: FileHandle, start: number, end: number): Promise<Buffer> {
	const buffer = Buffer.allocUnsafe(end - start);
	let offset = 0;
	while (offset < buffer.length) {
		const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, start + offset);
		if (bytesRead === 0) return buffer.subarray(0, offset);
		offset += bytesRead;
	}
	return buffer;
}

async function readWhole(file: string): Promise<Buffer> {
	const handle = await open(file, 'r');
	try {
		return await readRange(handle, 0, (await handle.stat()).size);
	} finally {
		await handle.close();
	}
}
