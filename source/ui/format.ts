// How figures read in the table: short, fixed-width friendly, binary units like `docker stats`.

export function formatBytes(bytes: number | null | undefined): string {
	if (bytes == null || !Number.isFinite(bytes)) return '-';
	const units = ['B', 'K', 'M', 'G', 'T'];
	let value = bytes;
	let unit = 0;
	while (value >= 1024 && unit < units.length - 1) {
		value /= 1024;
		unit++;
	}
	if (unit === 0) return `${Math.round(value)}B`;
	return `${value < 10 ? value.toFixed(1) : Math.round(value)}${units[unit]}`;
}

export function formatPercent(percent: number | null | undefined): string {
	if (percent == null || !Number.isFinite(percent)) return '-';
	return `${percent < 10 ? percent.toFixed(1) : Math.round(percent)}%`;
}

/** 42s, 3m12s, 2h05m, 3d04h */
/**
 * An uptime or a duration as `docker ps` and pm2 show one: seconds under a minute, then minutes, hours
 * and minutes, days and hours. Past the first minute the text changes once a minute, so an idle
 * dashboard is not redrawn every second or two for its uptimes alone.
 */
export function formatUptime(startedAt: string | null | undefined, nowMs: number): string {
	if (!startedAt) return '-';
	const started = Date.parse(startedAt);
	if (!Number.isFinite(started)) return '-';
	const seconds = Math.max(0, Math.floor((nowMs - started) / 1000));
	if (seconds < 60) return `${seconds}s`;
	const minutes = Math.floor(seconds / 60);
	if (minutes < 60) return `${minutes}m`;
	const hours = Math.floor(minutes / 60);
	if (hours < 24) return `${hours}h${String(minutes % 60).padStart(2, '0')}m`;
	return `${Math.floor(hours / 24)}d${String(hours % 24).padStart(2, '0')}h`;
}

/** In how many ms `formatUptime(startedAt, nowMs)` shows another text (Infinity when it never will). */
export function uptimeChangesInMs(startedAt: string | null | undefined, nowMs: number): number {
	const started = startedAt ? Date.parse(startedAt) : Number.NaN;
	if (!Number.isFinite(started)) return Number.POSITIVE_INFINITY;
	const age = Math.max(0, nowMs - started);
	const step = age < 60_000 ? 1000 : age < 24 * 3_600_000 ? 60_000 : 3_600_000;
	return step - (age % step);
}

/**
 * How late an uptime in minutes or hours may be drawn when nothing else draws: one frame then draws
 * the rows whose minute turned meanwhile (each row's turns at its own second), and a frame that comes
 * for anything else draws them on its way. Seconds (the first minute) are drawn on time.
 */
export const uptimeLateMs = 10_000;

/** In how many ms the uptime clock wakes for a change of the uptime text: `uptimeChangesInMs`, late by up to `uptimeLateMs` past the first minute. */
export function uptimeRedrawInMs(startedAt: string | null | undefined, nowMs: number): number {
	const inMs = uptimeChangesInMs(startedAt, nowMs);
	const started = startedAt ? Date.parse(startedAt) : Number.NaN;
	return nowMs + inMs - started > 60_000 ? inMs + uptimeLateMs : inMs;
}

/** Local wall-clock time of a log line: 10:00:00.123 */
export function formatClock(timeMs: number): string {
	if (!Number.isFinite(timeMs)) return '--:--:--.---';
	const d = new Date(timeMs);
	const two = (n: number) => String(n).padStart(2, '0');
	return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** The eight sparkline levels, lowest first. */
export const sparklineBlocks = '▁▂▃▄▅▆▇█';

/** The last `width` values as block characters (or the eight `levels` given), scaled to `max` (default: the largest value shown). */
export function sparkline(values: readonly number[], width: number, max?: number, levels = sparklineBlocks): string {
	if (width <= 0) return '';
	const shown = values.slice(-width);
	const top = max ?? Math.max(0, ...shown);
	const chars = shown.map((v) => (top <= 0 ? levels[0]! : levels[Math.min(levels.length - 1, Math.max(0, Math.round((v / top) * (levels.length - 1))))]!));
	return chars.join('').padStart(width, ' ');
}

/** Pads or cuts to exactly `width` characters (`ellipsis` when cut). */
export function fit(text: string, width: number, align: 'left' | 'right' = 'left', ellipsis = '…'): string {
	if (width <= 0) return '';
	const chars = Array.from(text);
	if (chars.length > width) return width === 1 ? ellipsis : `${chars.slice(0, width - 1).join('')}${ellipsis}`;
	return align === 'left' ? text.padEnd(width + (text.length - chars.length)) : text.padStart(width + (text.length - chars.length));
}
