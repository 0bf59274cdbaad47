// Turns batches of LogLines into the text of `stigmer server logs` (docs/contract.md, "Logs"): one string per
// batch, so the command writes large chunks instead of one syscall per line.
//   text:        `SERVICE | line`, names padded to the longest selected one, coloured on a TTY
//   timestamps:  `SERVICE | 2026-01-22T10:00:00.123456789Z line`
//   json:        `{"service","stream","time","line"}` per line
// Lines pass through the terminal sanitiser: only SGR colour survives, and only when colour is on (a TTY
// without --no-color / NO_COLOR); other sequences and controls never reach the terminal.
import { jsonStringForTerminal, sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import type { LogLine } from './LogLine.js';

export interface LogFormat {
	json: boolean;
	timestamps: boolean;
	color: boolean;
	/** every service that may appear, in display order (padding and colours depend on it) */
	services: string[];
}

// cyan, magenta, yellow, green, blue, bright red, bright cyan, bright magenta …
const palette = [36, 35, 33, 32, 34, 91, 96, 95, 93, 92, 94];

export class LogFormatter {
	private readonly prefix = new Map<string, string>();
	private readonly width: number;

	constructor(private readonly format: LogFormat) {
		this.width = Math.max(0, ...format.services.map((s) => s.length));
		format.services.forEach((service, i) => {
			this.prefix.set(service, this.makePrefix(service, i));
		});
	}

	private makePrefix(service: string, index: number): string {
		if (this.format.json) return `{"service":${JSON.stringify(service)},"stream":"`;
		const padded = service.padEnd(this.width);
		const name = this.format.color ? `\x1b[${palette[index % palette.length]}m${padded}\x1b[0m` : padded;
		return `${name} | `;
	}

	/** `SERVICE | ` (padded, coloured on a TTY), or the start of a JSON object */
	prefixOf(service: string): string {
		let prefix = this.prefix.get(service);
		if (prefix === undefined) {
			prefix = this.makePrefix(service, this.prefix.size);
			this.prefix.set(service, prefix);
		}
		return prefix;
	}

	/** Text for one batch, every line ending with `\n`. */
	formatBatch(lines: readonly LogLine[], from = 0, to = lines.length): string {
		const { json, timestamps, color } = this.format;
		let out = '';
		for (let i = from; i < to; i++) {
			const entry = lines[i]!;
			if (json) {
				out += `${this.prefixOf(entry.service)}${entry.stream}","time":"${entry.time}","line":${jsonStringForTerminal(entry.line, color)}}\n`;
				continue;
			}
			const text = sanitizeForTerminal(entry.line, color);
			if (timestamps) {
				out += `${this.prefixOf(entry.service)}${entry.time} ${text}\n`;
			} else {
				out += `${this.prefixOf(entry.service)}${text}\n`;
			}
		}
		return out;
	}
}
