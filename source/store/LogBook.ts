// Every log line the dashboard holds: one ring per service plus one ring of all services in arrival
// order (the "all services" view), sharing the same entries. ANSI sequences are stripped once, here.
// The all-services ring holds as many lines as one service's: under a flood it holds that service's
// lines either way, and twice as many made every flooded line live twice as long (more old-generation
// garbage, higher RSS) for lines nobody scrolls back to in the mixed view.
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import { type LogEntry, LogRing, defaultRingCapacity } from './LogRing.js';

/** A line as the logs module delivers it. */
export interface IncomingLogLine {
	service: string;
	stream: 'stdout' | 'stderr';
	time: string;
	/** epoch ms of `time`, when the source has it already */
	timeMs?: number;
	line: string;
}

export class LogBook {
	readonly all: LogRing;
	private readonly byService = new Map<string, LogRing>();
	private nextSeq = 1;

	constructor(
		readonly perServiceCapacity = defaultRingCapacity,
		allCapacity = perServiceCapacity,
	) {
		this.all = new LogRing(allCapacity);
	}

	append(lines: Iterable<IncomingLogLine>): number {
		let added = 0;
		for (const incoming of lines) {
			const entry: LogEntry = {
				seq: this.nextSeq++,
				service: incoming.service,
				stream: incoming.stream,
				timeMs: incoming.timeMs ?? Date.parse(incoming.time),
				line: cleanLine(incoming.line),
			};
			this.all.push(entry);
			this.ring(incoming.service).push(entry);
			added++;
		}
		return added;
	}

	ring(service: string): LogRing {
		let ring = this.byService.get(service);
		if (!ring) {
			ring = new LogRing(this.perServiceCapacity);
			this.byService.set(service, ring);
		}
		return ring;
	}

	get services(): string[] {
		return [...this.byService.keys()];
	}
}

/** No ANSI, no trailing CR/LF, tabs as spaces; other control characters shown escaped (`^M`). */
export function cleanLine(line: string): string {
	const text = sanitizeForTerminal(line.replace(/\r?\n$/, ''), false);
	return text.includes('\t') ? text.replace(/\t/g, '    ') : text;
}
