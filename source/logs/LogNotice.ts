// What a log source reports besides lines: why a service shows nothing (yet), and when following
// picked a service up again. `following` is set when the source keeps waiting for it.
export type LogNotice =
	| { kind: 'engine-unreachable'; service: string; message?: string; following?: boolean }
	| { kind: 'no-container'; service: string; following?: boolean }
	| { kind: 'container-stopped'; service: string; id: string; following?: boolean }
	| { kind: 'container-attached'; service: string; id: string }
	| { kind: 'no-log-file'; service: string; following?: boolean }
	| { kind: 'log-rotated'; service: string }
	| { kind: 'log-truncated'; service: string };
