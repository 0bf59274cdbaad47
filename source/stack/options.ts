// What every verb of the stack (start.ts, stop.ts, status.ts) takes and reports: its options, the
// events it emits as it goes, the engine connection it uses, and Ctrl-C as an error.
import type { StigmerConfig } from '../config/types.js';
import { exitCodes } from '../contract.js';
import { DockerApi } from '../engine/DockerApi.js';
import type { BuildProgress } from '../agentRunner/ImageBuilder.js';
import { UserError } from '../errors.js';

export type StackEvent =
	| { service: string; phase: 'build'; progress: BuildProgress }
	| { service: string; phase: 'pull' | 'reuse' | 'create' | 'recreate' | 'start' | 'wait' | 'ready' | 'stop' | 'stopped' | 'not-installed' | 'restart' | 'volume-removed'; text?: string }
	/** start found the supervisor dead (it died while natives or the LLM forward ran): `text` says what was lost */
	| { service: 'supervisor'; phase: 'supervisor-lost'; text: string }
	/** stop with an invalid config.yaml: `text` is its first problem (file:line) */
	| { service: 'config'; phase: 'config-invalid'; text: string };

export interface StackOptions {
	/** config.yaml, when the caller has read it already (a file is read once per command) */
	config?: StigmerConfig;
	onEvent?: (event: StackEvent) => void;
	signal?: AbortSignal;
	/** an already connected engine client (the dashboard keeps one) */
	api?: DockerApi;
}

export interface StartOptions extends StackOptions {
	build?: boolean;
	/** seconds to wait for readiness (per run) */
	timeoutSeconds?: number;
	wait?: boolean;
	services?: string[];
}

export async function connectEngine(options: StackOptions): Promise<DockerApi> {
	return options.api ?? DockerApi.connect();
}

export function checkAborted(signal?: AbortSignal): void {
	if (signal?.aborted) throw new UserError('interrupted', exitCodes.interrupted);
}
