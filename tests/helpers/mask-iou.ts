/** Per-class IoU of prepared parsing labels against a truth (PARSING_LABEL values 0-3: background,
 * head, neck, torso), accumulated over frames. */
export class ClassIoU {
  private readonly inter = [0, 0, 0, 0];
  private readonly union = [0, 0, 0, 0];

  /** One pixel: truth class t, prepared class p (255, "other", counts against t). */
  add(t: number, p: number): void {
    for (let c = 0; c < 4; c++) {
      if (t === c && p === c) this.inter[c]++;
      if (t === c || p === c) this.union[c]++;
    }
  }

  /** A prepared frame (size x size, prepare's crop of the source) against the truth of the source
   * frame (`truthAt(x, y)` in source pixels): each output pixel's centre mapped back through the crop. */
  addCropped(pred: Uint8Array, size: number, crop: { x: number; y: number; side: number }, source: { width: number; height: number }, truthAt: (x: number, y: number) => number): void {
    for (let v = 0; v < size; v++) {
      for (let u = 0; u < size; u++) {
        const sx = Math.min(source.width - 1, Math.floor(crop.x + ((u + 0.5) * crop.side) / size));
        const sy = Math.min(source.height - 1, Math.floor(crop.y + ((v + 0.5) * crop.side) / size));
        this.add(truthAt(sx, sy), pred[v * size + u]);
      }
    }
  }

  /** IoU per class (NaN for a class neither side has). */
  get iou(): number[] {
    return this.inter.map((v, c) => v / this.union[c]);
  }

  /** Pixels in each class's union. */
  get unions(): number[] {
    return this.union.slice();
  }

  toString(): string {
    const iou = this.iou;
    return ['background', 'head', 'neck', 'torso'].map((name, c) => `${name} ${iou[c].toFixed(3)}`).join(', ');
  }
}
