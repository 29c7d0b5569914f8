/**
A ZMTP 3.0 engine over node:net (NULL mechanism, PUB and SUB) for plain tcp:// links.
*/

export {EndpointError, formatTcpEndpoint, parseTcpEndpoint, type TcpEndpoint} from './endpoint.js';
export {ZmtpPublisher, type ZmtpPublisherEvent, type ZmtpPublisherOptions} from './publisher.js';
export {ZmtpSubscriber, type ZmtpSubscriberEvent, type ZmtpSubscriberOptions} from './subscriber.js';
