/**
The ZMTP 3 wire pieces the sockets are made of, for tests and tools that speak raw bytes to a peer
(a hand-made ZMTP 3.1 subscriber, a broken stream) and for benchmarks of the decoder. Not needed to
publish or subscribe: that is the main entry point.
*/

export {encodeCommand, encodeFrame, encodeMessage, FLAG_COMMAND, FLAG_LONG, FLAG_MORE} from './frame.js';
export {FrameDecoder, ZmtpStreamError, type FrameDecoderLimits, type OnFrame} from './frame-decoder.js';
export {GREETING_BYTES, GreetingReader, MECHANISM_NULL, OUR_GREETING, SIGNATURE_BYTES, type PeerGreeting} from './greeting.js';
export {encodePong, encodeReady, errorReason, parseCommand, parseProperties, type Command} from './commands.js';
