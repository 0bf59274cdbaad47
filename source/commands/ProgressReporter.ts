// Progress of start, stop and build for humans: a spinner line on a TTY, plain lines when piped.
import type { StackEvent } from '../stack/options.js';

const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class ProgressReporter {
	private timer: NodeJS.Timeout | null = null;
	private frame = 0;
	private current = '';
	private readonly started = Date.now();
	private lastPlain = '';

	constructor(
		private readonly out: NodeJS.WriteStream,
		private readonly tty: boolean,
	) {}

	private elapsed(): string {
		return `${((Date.now() - this.started) / 1000).toFixed(1)}s`;
	}

	private draw(): void {
		if (!this.tty || !this.current) return;
		const line = `${frames[this.frame++ % frames.length]} ${this.current} (${this.elapsed()})`;
		const width = this.out.columns ?? 80;
		this.out.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
	}

	/** A transient activity line (replaced by the next). */
	activity(text: string): void {
		this.current = text;
		if (this.tty) {
			if (!this.timer) this.timer = setInterval(() => this.draw(), 100);
			this.draw();
		} else if (text !== this.lastPlain) {
			this.lastPlain = text;
			this.out.write(`${text}\n`);
		}
	}

	/** A line that stays. */
	done(text: string): void {
		if (this.tty) this.out.write(`\r\x1b[2K${text}\n`);
		else this.out.write(`${text}\n`);
		this.current = '';
		if (this.timer) this.draw();
	}

	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = null;
		if (this.tty && this.current) this.out.write('\r\x1b[2K');
		this.current = '';
	}

	stackEvent(event: StackEvent): void {
		const s = event.service;
		if (event.phase === 'build') {
			const p = event.progress;
			if (p.kind === 'step') this.activity(`${s}: building image, step ${p.step}/${p.steps}: ${p.text.slice(0, 60)}`);
			else if (p.kind === 'base') this.activity(`${s}: ${p.text}`);
			return;
		}
		switch (event.phase) {
			case 'pull':
				this.activity(`${s}: ${event.text}`);
				return;
			case 'create':
				this.activity(`${s}: creating container`);
				return;
			case 'recreate':
				// an image built from other sources says so on a line that stays (agentRunner/image.ts)
				if (event.text) this.done(event.text);
				this.activity(`${s}: ${event.text ? 'recreating container' : 'configuration changed, recreating container'}`);
				return;
			case 'start':
				this.activity(`${s}: starting container`);
				return;
			case 'wait':
				this.activity(`${s}: waiting until ready`);
				return;
			case 'reuse':
				this.activity(`${s}: already running`);
				return;
			case 'ready':
				this.done(`✔ ${s} ready (${this.elapsed()})`);
				return;
			case 'not-installed':
				this.done(`- ${s} not installed (optional, skipped)`);
				return;
			case 'stop':
				this.activity(`${s}: stopping`);
				return;
			case 'stopped':
				this.done(`✔ ${s} stopped`);
				return;
			case 'restart':
				this.activity(`${s}: restarting`);
				return;
			case 'volume-removed':
				this.done(`✔ ${s}: volume ${event.text} removed`);
				return;
			case 'supervisor-lost':
				this.done(`! ${event.text}: starting it again`);
				return;
			case 'config-invalid':
				this.done(`! config.yaml is invalid (${event.text}); stopping what runs of this home`);
				return;
		}
	}
}
