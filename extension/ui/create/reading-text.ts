/**
 * What the person reads aloud while recording: written for this project (no quoted text), in
 * short paragraphs that together use every English vowel and consonant many times over —
 * lip closures (m, b, p), lip-teeth contacts (f, v), rounded vowels (oo, o, w), wide ones (ee,
 * a), the "th" sounds and sibilants — so the trainer sees the mouth in all its shapes. About
 * 600 words: three to four minutes at a calm pace.
 */
export const READING_TEXT: readonly string[] = [
  'Hello. My name is on the screen in front of me, and I am recording my voice and my face so that a computer can learn how I talk. I will read calmly, look at the camera now and then, and keep my head fairly still.',
  'Bright yellow boats bobbed beside the busy bridge. Peter picked a pair of purple plums, put them in a paper bag, and paid the baker by the bus stop. Maybe my mother made more muffins this morning; the kitchen smells of butter and warm bread.',
  'Five furious foxes followed the vivid violet van over the valley. The river was very wide, and the ferry moved slowly through the fog. Every evening a few of us gather at the fire, and we have fun with stories about forgotten voyages.',
  'Who knew the blue moon would look so smooth through the window? Two cool owls flew over the old oak woods, and the wind whistled a low, slow tune. Go home, open the door, and pour yourself a bowl of soup.',
  'She sells seashells by the shore, and the show she saw was short but charming. Six thick thistle sticks sat on the thatched roof. Think of three things you are thankful for this Thursday, then breathe and say them out loud.',
  'Each green tree in the field is taller than the last. We need to leave at eight, even if the weather is wet and the streets are steep. Keep calm, speak clearly, and let each sentence finish before you begin the next one.',
  'Judge the huge orange cabbage with a gentle gesture. Jack enjoyed the jazz at the village garage, although the measure of the music was unusual. Check the chart, choose a chair, and watch the children chase their shadows.',
  'Red, green, blue, black, white, brown and gold: name the colours you can see around you. Count from one to twelve: one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve.',
  'Now I will smile for a moment, then relax my face. Now I will raise my eyebrows, then let them rest. I will close my eyes for a second, open them, and look back at the camera.',
  'Quick questions keep a conversation going: how are you, where have you been, what would you like to do next week? I usually answer with a quiet yes, a loud no, or a thoughtful maybe.',
  'Thank you for listening. If there is time left on the timer, I will read these paragraphs again from the top, a little faster or a little slower, until the recording is long enough.',
];
