// The set of native services of one home: starts them in config order (each ready before the next),
// stops them in reverse order, and reports every state change. Used inside the supervisor process.
import { EventEmitter } from 'node:events';
import type { NativeServiceConfig } from '../config/types.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { BackoffOptions, CrashLoopOptions } from './Backoff.js';
import { NativeService } from './NativeService.js';
import type { NativeStatus, ProcessGuard } from './protocol.js';

export interface NativeSupervisorOptions {
	backoff?: BackoffOptions;
	crashLoop?: CrashLoopOptions;
	rotateBytes?: number;
}

export type StartResult = { ok: true } | { ok: false; service: string; error: string; timedOut: boolean };

export class NativeSupervisor extends EventEmitter<{ change: [NativeStatus[]] }> {
	private services = new Map<string, NativeService>();
	/** config order */
	private order: string[] = [];

	constructor(
		private readonly home: StigmerHome,
		private readonly options: NativeSupervisorOptions = {},
	) {
		super();
	}

	/** Adopts a (new) configuration: applies to each service's next spawn; unknown services are added. */
	configure(configs: NativeServiceConfig[]): void {
		this.order = configs.map((config) => config.name);
		// a service dropped from the config is forgotten once it is down; until then it can still be stopped
		for (const [name, service] of this.services) {
			if (!this.order.includes(name) && !service.isActive()) this.services.delete(name);
		}
		for (const config of configs) {
			const existing = this.services.get(config.name);
			if (existing) {
				existing.config = config;
				existing.checkInstalled();
				continue;
			}
			const service = new NativeService(config, {
				logFile: this.home.logFile(config.name),
				binDir: this.home.binDir,
				defaultCwd: this.home.dir,
				homeDir: this.home.dir,
				...(this.options.backoff && { backoff: this.options.backoff }),
				...(this.options.crashLoop && { crashLoop: this.options.crashLoop }),
				...(this.options.rotateBytes !== undefined && { rotateBytes: this.options.rotateBytes }),
			});
			service.on('change', () => this.emit('change', this.status()));
			this.services.set(config.name, service);
			service.checkInstalled();
		}
		this.emit('change', this.status());
	}

	/** Configured services first, in order, then services dropped from the config but still known. */
	status(): NativeStatus[] {
		return this.ordered().map((service) => service.status());
	}

	guards(): Record<string, ProcessGuard> {
		const guards: Record<string, ProcessGuard> = {};
		for (const service of this.services.values()) {
			const guard = service.processGuard();
			if (guard) guards[service.name] = guard;
		}
		return guards;
	}

	/** Names that cannot be started (not configured) or stopped (not known at all). */
	unknown(names: string[], purpose: 'start' | 'stop'): string[] {
		return names.filter((name) => (purpose === 'start' ? !this.order.includes(name) : !this.services.has(name)));
	}

	/**
	 * Starts `names` (all configured when empty) in config order. With `readyTimeoutMs`, waits for each to be
	 * ready before the next; stops at the first that fails. A missing optional one is skipped.
	 */
	async start(names: string[], readyTimeoutMs: number | null): Promise<StartResult> {
		const deadline = readyTimeoutMs === null ? null : Date.now() + readyTimeoutMs;
		for (const service of this.select(names, false)) {
			await service.start();
			if (deadline === null) continue;
			const state = await service.waitSettled(Math.max(0, deadline - Date.now()));
			if (state === 'running' || state === 'not-installed') continue;
			const status = service.status();
			if (state === 'timeout') {
				return { ok: false, service: service.name, timedOut: true, error: `${service.name} not ready after ${Math.round(readyTimeoutMs! / 1000)} s${status.lastError ? `: ${status.lastError}` : ''}` };
			}
			return { ok: false, service: service.name, timedOut: false, error: `${service.name} ${state}${status.lastError ? `: ${status.lastError}` : ''}` };
		}
		return { ok: true };
	}

	/** Stops `names` (all when empty) in reverse config order. */
	async stop(names: string[], timeoutMs: number): Promise<void> {
		for (const service of this.select(names, true)) await service.stop(timeoutMs);
	}

	async restart(names: string[], stopTimeoutMs: number, readyTimeoutMs: number | null): Promise<StartResult> {
		await this.stop(names, stopTimeoutMs);
		return this.start(names, readyTimeoutMs);
	}

	private ordered(): NativeService[] {
		const configured = this.order.map((name) => this.services.get(name)!).filter(Boolean);
		const dropped = [...this.services.values()].filter((service) => !this.order.includes(service.name));
		return [...configured, ...dropped];
	}

	private select(names: string[], reverse: boolean): NativeService[] {
		// starting only considers configured services; stopping also those dropped from the config
		const pool = reverse ? this.ordered() : this.ordered().filter((service) => this.order.includes(service.name));
		const chosen = names.length === 0 ? pool : pool.filter((service) => names.includes(service.name));
		return reverse ? chosen.reverse() : chosen;
	}
}
