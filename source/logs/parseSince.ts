// `--since`: a duration back from now (`30s`, `10m`, `2h`, `1d`, also combined: `1h30m`) or an RFC 3339
// time (`2026-01-22T10:00:00Z`, with or without fraction, `Z` or an offset).
import { normalizeTime, timeFromMs } from './LogLine.js';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Returns the normalised time, or null when the text is neither a duration nor an RFC 3339 time. */
export function parseSince(text: string, nowMs: number = Date.now()): string | null {
	const trimmed = text.trim();
	if (/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(trimmed)) {
		let total = 0;
		for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(amount) * unitMs[unit!]!;
		return timeFromMs(nowMs - total);
	}
	const time = normalizeTime(trimmed);
	if (time !== null && !Number.isNaN(Date.parse(`${time.slice(0, 23)}Z`))) return time;
	// a date alone means its midnight UTC
	if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed) && !Number.isNaN(Date.parse(trimmed))) return `${trimmed}T00:00:00.000000000Z`;
	return null;
}
