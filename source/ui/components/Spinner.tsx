// The spinner of the executions table's running rows (the services table's transitions use
// ink-spinner itself: one row, for a second or two). Every spinner on the screen
// follows ONE clock, which runs only while some spinner is mounted and moves them all in one React
// update that re-renders only the spinners. ink-spinner gave each its own setInterval, out of phase:
// 16 running executions were ~120 commits a second, and every commit costs Ink a whole frame. And
// when the screen is drawn anyway (the store's batches, 4 a second under load), `nudge` moves the
// spinners in that same update, so the clock's own timer fires only while nothing else draws: it
// waits two intervals after the last draw, or the spinners would add a frame between every two batches.
import { Text } from 'ink';
import { useSyncExternalStore } from 'react';

/** cli-spinners' `line`, as ink-spinner drew it. */
export const spinnerFrames = ['-', '\\', '|', '/'] as const;
export const spinnerIntervalMs = 130;

/** A frame counter that ticks while it has subscribers, and has no timer otherwise. */
export class SpinnerClock {
	private frame = 0;
	private lastTickAt = 0;
	/** the last time something else drew (a nudge) */
	private lastNudgeAt = Number.NEGATIVE_INFINITY;
	private timer: NodeJS.Timeout | null = null;
	private readonly listeners = new Set<() => void>();

	constructor(private readonly intervalMs = spinnerIntervalMs) {}

	get running(): boolean {
		return this.timer !== null;
	}

	getSnapshot = (): number => this.frame;

	subscribe = (listener: () => void): (() => void) => {
		this.listeners.add(listener);
		if (!this.timer) {
			this.frame = 0;
			this.lastTickAt = Date.now();
			this.arm(this.intervalMs);
		}
		return () => {
			this.listeners.delete(listener);
			if (this.listeners.size === 0 && this.timer) {
				clearTimeout(this.timer);
				this.timer = null;
			}
		};
	};

	/**
	 * Something else is about to be drawn (call it in the same task, before React renders): the
	 * spinners move with it if half their interval has passed, and their own timer waits again.
	 */
	nudge = (): void => {
		if (!this.timer) return;
		this.lastNudgeAt = Date.now();
		if (this.lastNudgeAt - this.lastTickAt >= this.intervalMs / 2) this.tick();
	};

	private arm(delayMs: number): void {
		this.timer = setTimeout(this.onTimer, delayMs);
		this.timer.unref?.();
	}

	private onTimer = (): void => {
		const wait = Math.max(this.lastTickAt + this.intervalMs, this.lastNudgeAt + 2 * this.intervalMs) - Date.now();
		// a nudge moved the spinners since, or something else still draws: wait
		if (wait > 1) {
			this.arm(wait);
			return;
		}
		this.tick();
		this.arm(this.intervalMs);
	};

	private tick(): void {
		this.lastTickAt = Date.now();
		this.frame = (this.frame + 1) % spinnerFrames.length;
		for (const listener of [...this.listeners]) listener();
	}
}

/** The clock of every spinner of the dashboard. */
export const spinnerClock = new SpinnerClock();

export function Spinner({ clock = spinnerClock }: { clock?: SpinnerClock }) {
	const frame = useSyncExternalStore(clock.subscribe, clock.getSnapshot, clock.getSnapshot);
	return <Text>{spinnerFrames[frame]}</Text>;
}
