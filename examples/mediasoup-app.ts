/**
 * Example: a mediasoup web app sends a talking head instead of the camera
 * (tests/unit/sdk-mediasoup.test.ts runs it on mediasoup-client's FakeHandler). `signal`
 * stands for the app's own signalling to its mediasoup server.
 */
import type { types } from 'mediasoup-client';
import { produceTalkingHead, type ProduceTalkingHeadOptions, type ProducedTalkingHead } from '../sdk/index.ts';

export interface Signalling {
  connectTransport(transportId: string, dtlsParameters: types.DtlsParameters): Promise<void>;
  produce(transportId: string, kind: types.MediaKind, rtpParameters: types.RtpParameters, appData: types.AppData): Promise<{ id: string }>;
}

export async function sendTalkingHead(
  device: types.Device,
  transportOptions: types.TransportOptions,
  signal: Signalling,
  head: ProduceTalkingHeadOptions,
): Promise<{ transport: types.Transport; produced: ProducedTalkingHead }> {
  const transport = device.createSendTransport(transportOptions);
  transport.on('connect', ({ dtlsParameters }, ok, fail) => {
    signal.connectTransport(transport.id, dtlsParameters).then(ok, fail);
  });
  transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
    signal.produce(transport.id, kind, rtpParameters, appData).then(ok, fail);
  });
  // Face (3 simulcast layers) and voice; mediasoup's stopTracks/disableTrackOnPause apply.
  const produced = await produceTalkingHead(transport, head);
  return { transport, produced };
}
