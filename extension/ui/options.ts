import { bindSettings, byId } from './controls.ts';

void bindSettings(() => {
  byId('saved').textContent = 'Saved.';
});
