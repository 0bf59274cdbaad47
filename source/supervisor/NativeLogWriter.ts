// Writes a native service's output to `$STIGMER_HOME/logs/<service>.log`, one record per line:
// `<RFC 3339 nano UTC> <stdout|stderr> <line>\n`. Rotation is rename-based (`.log` → `.log.1` → … →
// `.log.<keep>`, then a new `.log` at the same path), so a reader that follows the path by inode sees the
// old file end and a new one appear. Writes are synchronous: records of one service never interleave
// and the order in the file is the order of arrival. A write that fails (a full disk) never throws and
// never blocks: its lines are dropped and counted, and once writing works again a record says how many
// were lost and why.
import { closeSync, fstatSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { nativeLogFile } from '../contract.js';
import { errorMessage } from '../errors.js';
import { describeFileSystemRefusal } from '../platform/fileSystem.js';
import { NanoClock } from './NanoClock.js';

export type LogStream = 'stdout' | 'stderr';

export interface NativeLogWriterOptions {
	rotateBytes?: number;
	keep?: number;
	clock?: NanoClock;
}

const sharedClock = new NanoClock();

export class NativeLogWriter {
	private fd: number | null = null;
	private size = 0;
	private readonly rotateBytes: number;
	private readonly keep: number;
	private readonly clock: NanoClock;

	constructor(
		readonly file: string,
		options: NativeLogWriterOptions = {},
	) {
		this.rotateBytes = options.rotateBytes ?? nativeLogFile.rotateBytes;
		this.keep = options.keep ?? nativeLogFile.keep;
		this.clock = options.clock ?? sharedClock;
	}

	/** lines lost to failed writes since the last record saying so */
	private droppedLines = 0;
	private dropReason: string | null = null;

	/** Lines dropped since writing last worked, and why (null when none are). */
	get dropped(): { lines: number; reason: string } | null {
		return this.droppedLines > 0 && this.dropReason !== null ? { lines: this.droppedLines, reason: this.dropReason } : null;
	}

	/** Writes lines that arrived together; each gets its own timestamp. On failure they are dropped and counted. */
	write(stream: LogStream, lines: Buffer[]): void {
		if (lines.length === 0) return;
		try {
			if (this.droppedLines > 0) {
				this.writeRecords('stderr', [Buffer.from(`[stigmer] ${this.droppedLines} lines dropped: ${this.dropReason ?? 'write failed'}`)]);
				this.droppedLines = 0;
				this.dropReason = null;
			}
			this.writeRecords(stream, lines);
		} catch (error) {
			this.droppedLines += lines.length;
			this.dropReason = describeFileSystemRefusal(error, this.file) ?? `cannot write ${this.file}: ${errorMessage(error)}`;
			// the next write reopens (the file may have been removed to make room)
			this.close();
		}
	}

	private writeRecords(stream: LogStream, lines: Buffer[]): void {
		this.open();
		let batch: Buffer[] = [];
		let batchBytes = 0;
		const tag = stream === 'stdout' ? ' stdout ' : ' stderr ';
		for (const line of lines) {
			const record = Buffer.concat([Buffer.from(this.clock.now() + tag), line, newline]);
			if (this.size + batchBytes > 0 && this.size + batchBytes + record.length > this.rotateBytes) {
				this.writeBatch(batch, batchBytes);
				batch = [];
				batchBytes = 0;
				this.rotate();
			}
			batch.push(record);
			batchBytes += record.length;
		}
		this.writeBatch(batch, batchBytes);
	}

	close(): void {
		if (this.fd !== null) {
			try {
				closeSync(this.fd);
			} catch {
				// nothing more to lose
			}
		}
		this.fd = null;
	}

	private open(): void {
		if (this.fd !== null) return;
		this.fd = openSync(this.file, 'a', 0o644);
		this.size = fstatSync(this.fd).size;
	}

	private writeBatch(batch: Buffer[], bytes: number): void {
		if (bytes === 0 || this.fd === null) return;
		const data = batch.length === 1 ? batch[0]! : Buffer.concat(batch, bytes);
		let offset = 0;
		while (offset < data.length) offset += writeSync(this.fd, data, offset);
		this.size += data.length;
	}

	private rotate(): void {
		this.close();
		rmSync(`${this.file}.${this.keep}`, { force: true });
		for (let i = this.keep - 1; i >= 1; i--) {
			try {
				renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
			}
		}
		renameSync(this.file, `${this.file}.1`);
		this.open();
	}
}

const newline = Buffer.from('\n');
