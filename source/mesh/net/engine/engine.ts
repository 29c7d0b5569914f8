/**
What the transport needs from a socket engine: a publisher bound to this node's endpoint, and one
subscriber per peer endpoint. Three engines implement it (see `select.ts` for which serves what):
libzmq through zeromq.js, ZMTP 3 over node:net (@chorus-tui/zmtp), and an in-memory inproc:// bus.
*/

/** Called for every message a take hands over: two arguments, so the hot path allocates no wrapper. */
export type OnFrames = (frames: Buffer[], endpoint: string) => void;

export type LinkEvent =
	/** Handshake done: messages can flow. */
	| {type: 'up'}
	/** An established link was lost; the subscriber redials by itself. */
	| {type: 'down'}
	/**
	The subscriber gave up on the link and will not redial by itself: the peer sent a frame over the
	size limit (`oversize`), a malformed stream (`protocol`), or refused our handshake (`refused`).
	The transport reopens it after a growing delay.
	*/
	| {type: 'dropped'; reason: DropReason}
	| {type: 'handshake-failed'; reason: string}
	/** A dial failed before the handshake (refused, reset, timed out, closed at once); the subscriber redials with backoff. */
	| {type: 'dial-failed'; code: string}
	/** A PING of the publisher's went unanswered: it does not read the PONGs we owe it. */
	| {type: 'ping-dropped'};

/**
Why a link was given up: a frame over the size limit (`oversize`), a malformed stream (`protocol`),
more commands than the control budget (`command-flood`), a multipart message of too many parts
(`too-many-parts`), a refused handshake (`refused`), or no file descriptor to open it (`descriptors`).
*/
export type DropReason = 'oversize' | 'protocol' | 'refused' | 'command-flood' | 'too-many-parts' | 'descriptors';

/**
What our publisher refused (see @chorus-tui/zmtp's ZmtpClientRefusal): `max-connections`,
`descriptors` (EMFILE on accept), `subscription-limit`, `too-many-subscriptions`, `command-flood`,
`too-many-parts`, `protocol`, `oversize`, `ping-dropped`.
*/
export type ClientRefusal =
	| 'max-connections'
	| 'descriptors'
	| 'subscription-limit'
	| 'too-many-subscriptions'
	| 'ping-dropped'
	| 'command-flood'
	| 'too-many-parts'
	| 'protocol'
	| 'oversize';

export type PublisherEvent =
	| {type: 'client-handshake-failed'; reason: string; code?: string}
	| {type: 'client-refused'; reason: ClientRefusal; detail: string};

export type SocketOptions = {
	maxMessageBytes: number;
	/** Messages queued per socket (or per subscriber) before the newest are dropped. */
	highWaterMark: number;
	reconnectIntervalMs: number;
	/** A dial (with its handshake) that has not completed in this long is abandoned and retried. */
	connectTimeoutMs: number;
	/** Connections our publisher holds at once (see descriptors.ts for the default). */
	maxConnections: number;
};

export type SubscriberSocket = {
	/**
	Hand up to `max` queued messages to `onFrames`; returns how many. Synchronous engines return a
	number, zeromq.js a promise: the caller awaits only then, sparing a microtask per drain.
	*/
	take(max: number, onFrames: OnFrames, endpoint: string): number | Promise<number>;
	/**
	Engines whose links read only when asked (zmtp): read what has arrived since the last fetch.
	Undefined when it has been read already (or there was nothing to start); a promise when the read
	comes in the event loop's next turn, settled once it has.
	*/
	fetch?(): Promise<void> | undefined;
	/** The last fetch stopped at its byte budget with more waiting (zmtp): poll again soon. */
	readonly backlogged?: boolean;
	/**
	Every subscriber of one publish is handed the same Buffer, never a copy (inproc): a receiver may
	keep what it made of a frame for the other receivers of it, provided nobody changes the frame or
	what was made of it. Absent: each frame is this socket's own.
	*/
	readonly sharesFrames?: boolean;
	close(): void;
};

export type PublisherSocket = {
	/** The endpoint actually bound (a wildcard port resolved). */
	readonly endpoint: string;
	/** Publish one single-frame message; false when it could not be handed to the engine at all. */
	send(frame: string): boolean | Promise<boolean>;
	/** Connections held now (accepted, handshaking or established), where the engine knows. */
	readonly connectionCount?: number;
	/** Distinct prefixes subscribed, and their bytes, where the engine knows. */
	readonly subscriptions?: {count: number; bytes: number};
	/**
	Close every subscriber's connection; each redials and handshakes afresh (with CURVE, ZAP is asked
	again: how a reloaded allow file shuts out a removed key). Absent where no engine needs it.
	*/
	dropClients?(): Promise<void>;
	close(): void;
};

export type Engine = {
	readonly name: EngineName;
	bind(endpoint: string, options: SocketOptions, onEvent: (event: PublisherEvent) => void): Promise<PublisherSocket>;
	/** Open a subscriber to everything `endpoint` publishes; it starts dialling at once. */
	open(endpoint: string, options: SocketOptions, onEvent: (event: LinkEvent) => void): SubscriberSocket;
};

export type EngineName = 'libzmq' | 'zmtp' | 'inproc';
