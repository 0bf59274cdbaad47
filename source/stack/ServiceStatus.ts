// One row of `stigmer server status --json` (product.md). The dashboard's services table shows the same.

/** `unknown`: the container engine does not answer, so what the container does cannot be told. */
export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'exited' | 'failed' | 'not-installed' | 'unknown';
export type ServiceHealth = 'healthy' | 'unhealthy' | 'starting' | null;

export interface ServiceStatus {
	name: string;
	kind: 'container' | 'native';
	state: ServiceState;
	health?: ServiceHealth;
	/** container id (containers) */
	id?: string;
	/** process id (natives) */
	pid?: number;
	image?: string;
	endpoint?: string;
	/** RFC 3339 */
	startedAt?: string | null;
	restarts?: number;
	exitCode?: number | null;
	oomKilled?: boolean;
	/** why it is failed / not-installed, for humans */
	message?: string;
}

export interface EngineStatus {
	reachable: boolean;
	endpoint: string;
	version: string | null;
	error?: string;
}

export interface StackStatus {
	engine: EngineStatus;
	services: ServiceStatus[];
}
