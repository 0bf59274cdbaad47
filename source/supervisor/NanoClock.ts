// RFC 3339 timestamps with nanoseconds for native log lines. Date.now() has millisecond precision and
// can step backwards (NTP); the monotonic hrtime anchored once to the wall clock gives nanoseconds and
// lines that never go back in time within a log file.

export class NanoClock {
	private readonly anchorEpochNs: bigint;
	private readonly anchorHr: bigint;
	private last = 0n;

	constructor(nowMs: number = Date.now(), hr: bigint = process.hrtime.bigint()) {
		this.anchorEpochNs = BigInt(nowMs) * 1_000_000n;
		this.anchorHr = hr;
	}

	/** Nanoseconds since the epoch, strictly increasing across calls. */
	nowNs(hr: bigint = process.hrtime.bigint()): bigint {
		let ns = this.anchorEpochNs + (hr - this.anchorHr);
		if (ns <= this.last) ns = this.last + 1n;
		this.last = ns;
		return ns;
	}

	now(): string {
		return formatRfc3339Nano(this.nowNs());
	}
}

/** `2026-01-22T10:00:00.123456789Z` for nanoseconds since the epoch (UTC). */
export function formatRfc3339Nano(epochNs: bigint): string {
	const seconds = epochNs / 1_000_000_000n;
	const fraction = epochNs % 1_000_000_000n;
	const iso = new Date(Number(seconds) * 1000).toISOString(); // 2026-01-22T10:00:00.000Z
	return `${iso.slice(0, 19)}.${fraction.toString().padStart(9, '0')}Z`;
}
