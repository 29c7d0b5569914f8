/**
@chorus-tui/zmtp: ZeroMQ PUB/SUB (and ROUTER/DEALER) over TCP in plain Node, speaking ZMTP 3 with the NULL mechanism,
wire-compatible with libzmq. See README.md for what it speaks, what it does not, and why it exists.

The sockets take and hand out bytes (strings, Uint8Array, Buffer); no socket, descriptor or other
Node handle shows in their types. The frame codec for building raw peers is in `./protocol`.
*/

export {ZmtpPublisher, MAX_SUBSCRIPTIONS, type ZmtpClientRefusal, type ZmtpPublisherEvent, type ZmtpPublisherOptions} from './publisher.js';
export {CONTROL_BURST_FRAMES, CONTROL_FRAMES_PER_SECOND, DEFAULT_MAX_MESSAGE_PARTS, MAX_PONG_BACKLOG_BYTES, type ZmtpFailure} from './connection.js';
export {ZmtpSubscriber, type ZmtpReading, type ZmtpSubscriberEvent, type ZmtpSubscriberOptions} from './subscriber.js';
export {ZmtpRouter, type ZmtpRouterEvent, type ZmtpRouterOptions, type ZmtpRouterRefusal} from './router.js';
export {ZmtpDealer, type ZmtpDealerEvent, type ZmtpDealerOptions} from './dealer.js';
export {EndpointError, formatTcpEndpoint, parseTcpEndpoint, type TcpEndpoint} from './endpoint.js';
export {MessageQueue} from './message-queue.js';
