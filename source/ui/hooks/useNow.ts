import { useEffect, useReducer } from 'react';

/**
 * The current time for uptimes. While `active`, it makes sure the screen is redrawn now and then: the
 * timer is re-armed after every render, so while stats redraw the screen every 2 s (whenever
 * something runs, a stats stream or the process sampler does) it never fires, and with nothing running
 * no timer runs at all. A fallback a little longer than the stats period, so the two never both draw.
 */
export function useNow(active: boolean, intervalMs = 2500): number {
	const [, tick] = useReducer((n: number) => n + 1, 0);
	const now = Date.now();
	useEffect(() => {
		if (!active) return;
		const timer = setTimeout(tick, intervalMs);
		return () => clearTimeout(timer);
	});
	return now;
}
