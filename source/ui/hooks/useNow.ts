import { useEffect, useReducer } from 'react';

/**
 * The current time for uptimes and durations. `changesInMs` says, for a time, in how many ms a text the
 * screen shows from it changes (null: none is shown). The timer is re-armed after every render, so it
 * fires only when nothing else drew in the meantime, and not before `minimumMs` (a little longer than
 * the stats period, so the two never both draw). Past its first minute an uptime changes once a minute
 * (format.ts), and an idle dashboard wakes for it once a minute, not every 2.5 s; with no clock shown,
 * no timer runs at all.
 */
export function useNow(changesInMs: ((nowMs: number) => number) | null, minimumMs = 2500): number {
	const [, tick] = useReducer((n: number) => n + 1, 0);
	const now = Date.now();
	useEffect(() => {
		if (!changesInMs) return;
		const delay = changesInMs(now);
		if (!Number.isFinite(delay)) return;
		const timer = setTimeout(tick, Math.max(minimumMs, delay));
		return () => clearTimeout(timer);
	});
	return now;
}
