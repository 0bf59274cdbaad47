// A live subscription to the engine's /events for this home's containers. It survives the engine going
// away: it reports the loss, retries with backoff, and on return reports it and asks for a resync
// (events missed while away are not replayed, so the caller inspects again).
import { homeLabelSelector } from '../contract.js';
import { errorMessage } from '../errors.js';
import type { Readable } from 'node:stream';
import { type DockerApi, abortable } from './DockerApi.js';
import { jsonLines } from './streams.js';

/** A container event as /events sends it (the fields used here). */
export interface ContainerEvent {
	Type?: string;
	/** start, die, stop, kill, restart, oom, health_status: healthy, destroy, create, … */
	Action?: string;
	status?: string;
	id?: string;
	Actor?: { ID?: string; Attributes?: Record<string, string> };
	time?: number;
	timeNano?: number;
}

export interface EngineSubscriber {
	/** the engine answered (first time, or again after a loss): inspect what you need now */
	onReachable(api: DockerApi): void | Promise<void>;
	onUnreachable(error: string): void;
	onEvent(event: ContainerEvent): void;
}

export function eventFilters(homeHash: string) {
	return { type: ['container' as const], label: homeLabelSelector(homeHash) };
}

export interface EventSubscriptionOptions {
	api: DockerApi;
	homeHash: string;
	signal: AbortSignal;
	/** retry delays grow from `minDelayMs` to `maxDelayMs` */
	minDelayMs?: number;
	maxDelayMs?: number;
}

/**
 * Runs until `signal` aborts: connect (negotiate), open /events, resync, stream; on any failure report
 * unreachable once, wait, and start again.
 */
export async function subscribeEngineEvents(options: EventSubscriptionOptions, subscriber: EngineSubscriber): Promise<void> {
	const { api, homeHash, signal } = options;
	const minDelay = options.minDelayMs ?? 500;
	const maxDelay = options.maxDelayMs ?? 5000;
	let delay = minDelay;
	let reachable: boolean | null = null;
	while (!signal.aborted) {
		try {
			await api.negotiate(3000);
			// open the stream before resyncing, so nothing that happens in between is lost
			const since = Math.floor(Date.now() / 1000);
			const stream = await api.docker.getEvents({ filters: eventFilters(homeHash), since, abortSignal: signal });
			const response = abortable(stream as unknown as Readable, signal);
			try {
				reachable = true;
				delay = minDelay;
				await subscriber.onReachable(api);
				for await (const event of jsonLines<ContainerEvent>(response)) {
					if (signal.aborted) break;
					subscriber.onEvent(event);
				}
			} finally {
				response.destroy();
			}
			if (signal.aborted) return;
			throw new Error('the engine closed the event stream');
		} catch (error) {
			if (signal.aborted) return;
			if (reachable !== false) subscriber.onUnreachable(errorMessage(error) === 'aborted' ? 'connection lost' : errorMessage(error));
			reachable = false;
			await sleep(delay, signal);
			delay = Math.min(maxDelay, delay * 2);
		}
	}
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const timer = setTimeout(done, ms);
		function done() {
			clearTimeout(timer);
			signal.removeEventListener('abort', done);
			resolve();
		}
		signal.addEventListener('abort', done, { once: true });
	});
}
