/** The `action_id`s of the adapter's buttons: the messages render them, the listeners match them. */
export const ACTION = {
  rerollStyle: 'pastiche_reroll_style',
  rerollStructure: 'pastiche_reroll_structure',
  rerollColor: 'pastiche_reroll_color',
  rerollFuse: 'pastiche_reroll_fuse',
  wholePhoto: 'pastiche_whole_photo',
  /** `pastiche_pick_1`…: keep one picture of a grid or strip. */
  pickPrefix: 'pastiche_pick_',
  cancel: 'pastiche_cancel',
  delete: 'pastiche_delete',
  /** App Home. */
  homeSheet: 'pastiche_home_sheet',
  homeForget: 'pastiche_home_forget',
  homeDelete: 'pastiche_home_delete',
} as const;
