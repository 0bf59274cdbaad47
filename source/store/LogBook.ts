// Every log line the dashboard holds: one ring per service plus one ring of all services in arrival
// order (the "all services" view), sharing the same text. A batch's lines of one service are joined
// into one string that both rings slice (see LogRing); ANSI sequences are stripped when a line is read.
// A chunk holds one service's lines only, so a quiet service's ring never keeps a flooding one's text
// alive, and the all-services ring's lines (the newest overall) are among the newest of their service:
// the text kept is bounded by the per-service rings.
// The all-services ring holds as many lines as one service's: under a flood it holds that service's
// lines either way, and twice as many made every flooded line live twice as long (more old-generation
// garbage, higher RSS) for lines nobody scrolls back to in the mixed view.
import { LogRing, cleanLine, defaultRingCapacity } from './LogRing.js';

export { cleanLine };

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
	/** per service, the batch being joined (kept between batches: no allocation per batch but the joined text) */
	private readonly chunks = new Map<string, { texts: string[]; text: string; offset: number }>();

	constructor(
		readonly perServiceCapacity = defaultRingCapacity,
		allCapacity = perServiceCapacity,
	) {
		this.all = new LogRing(allCapacity);
	}

	append(lines: Iterable<IncomingLogLine>): number {
		const batch = Array.isArray(lines) ? (lines as IncomingLogLine[]) : [...lines];
		const chunks = this.chunks;
		for (const incoming of batch) {
			let chunk = chunks.get(incoming.service);
			if (!chunk) {
				chunk = { texts: [], text: '', offset: 0 };
				chunks.set(incoming.service, chunk);
			}
			chunk.texts.push(incoming.line);
		}
		for (const chunk of chunks.values()) {
			chunk.text = chunk.texts.length === 1 ? chunk.texts[0]! : chunk.texts.join('');
			chunk.texts.length = 0;
			chunk.offset = 0;
		}
		for (const incoming of batch) {
			const chunk = chunks.get(incoming.service)!;
			const start = chunk.offset;
			const end = start + incoming.line.length;
			chunk.offset = end;
			const seq = this.nextSeq++;
			const timeMs = incoming.timeMs ?? Date.parse(incoming.time);
			this.all.pushText(seq, incoming.service, incoming.stream, timeMs, chunk.text, start, end);
			this.ring(incoming.service).pushText(seq, incoming.service, incoming.stream, timeMs, chunk.text, start, end);
		}
		for (const chunk of chunks.values()) chunk.text = '';
		if (chunks.size > 64) chunks.clear();
		return batch.length;
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
