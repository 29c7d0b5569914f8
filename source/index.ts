/**
The library API of chorus-tui: a Chorus node to embed in another program, with no terminal UI,
no command line and no child processes. Importing it loads neither Ink nor React.

```js
import {ChorusNode, defaultNodeOptions} from 'chorus-tui';

const node = new ChorusNode(defaultNodeOptions(
	{id: 'a', bindEndpoint: 'tcp://127.0.0.1:5555'},
	{peerEndpoints: ['tcp://127.0.0.1:5556']},
));
node.on((event) => console.log(event.kind, event.peer ?? ''));
await node.start();
console.log(node.snapshot().node.r);
await node.stop();
```

A node is an object, not a module singleton: several can run in one process (`inproc://`
endpoints keep them in memory). Its snapshot is the same object the terminal UI and the NDJSON
reporter (`chorus-tui --headless`) show.

@packageDocumentation
*/

/** The node: `start()`, `stop()`, `snapshot()`, `on(listener)`, peers and faults. */
export {ChorusNode} from './mesh/node.js';

/** How a node is set up, the defaults every node shares, and a helper that fills them in. */
export {defaultNodeOptions, NODE_DEFAULTS, type NodeOptions} from './mesh/options.js';

/** What a node shows (`snapshot()`) and emits (`on()`). */
export type {EventDetails, NodeEvent, NodeEventKind, NodeSnapshot, NodeStats, PeerSnapshot, StampedEvent} from './mesh/snapshot.js';
export type {PeerState} from './mesh/model/peer-table.js';

/** Faults a node can inject into what it receives (per peer or for all) and what it publishes. */
export {
	ALL_PEERS,
	NO_INBOUND_FAULT,
	NO_OUTBOUND_FAULT,
	type FaultsInForce,
	type FaultTarget,
	type InboundFault,
	type OutboundFault,
} from './mesh/model/fault-types.js';
/** Thrown by `setInboundFault`/`setOutboundFault` for a bad value or target, with a one-line message. */
export {FaultError} from './mesh/model/faults.js';

/** Thrown by `start()` when the endpoint cannot be bound (`code` is e.g. `EADDRINUSE`). */
export {BindError, type TransportOptions} from './mesh/net/transport.js';
export type {EngineChoice} from './mesh/net/engine/select.js';
export type {CurveOptions, SecurityOptions} from './mesh/security/screening.js';

/** Wire protocol v1: one JSON object per frame, the format the Python nodes speak. */
export {
	decode,
	decodeMessage,
	encode,
	isPrintableId,
	MAX_MESSAGE_BYTES,
	PROTOCOL_VERSION,
	REJECT_REASONS,
	type DecodeResult,
	type OutboundState,
	type RejectReason,
	type WireMessage,
} from './mesh/model/wire.js';

/** Seeded randomness, to reproduce a run (`NodeOptions.random`), and random node ids. */
export {randomNodeId, seededUniform, type Uniform} from './mesh/model/random.js';
