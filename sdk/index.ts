/**
 * R2 Talker SDK: a talking head for apps that run their own calls (LiveKit, mediasoup, or any
 * WebRTC code that takes a MediaStreamTrack). Browser only; the Node side is the
 * `r2talker livekit-avatar` worker.
 */
export { createTalkingHead, type TalkingHead, type TalkingHeadStats } from './talking-head.ts';
export { TalkingHeadError, type TalkingHeadErrorCode } from './errors.ts';
export { supportReport, type SupportReport, type VideoSinkKind } from './support.ts';
export type { AvatarInput, OutputSize, TalkingHeadOptions } from './options.ts';
export { simulcastLayers, type Layer } from './encodings.ts';
export { publishTalkingHead, faceVideoPublishOptions, voiceAudioPublishOptions, TalkingHeadAudioProcessor, type PublishTalkingHeadOptions, type PublishedTalkingHead, type TalkingHeadProcessorOptions } from './livekit.ts';
export { produceTalkingHead, faceEncodings, type ProduceTalkingHeadOptions, type ProducedTalkingHead } from './mediasoup.ts';
