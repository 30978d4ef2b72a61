// Roles decide what is shown; the server decides what is allowed.

// The two statuses TaskDash itself gives meaning to; finished ones are the server's setting.
export const UNCLAIMED = "待领取";
export const CLAIMED = "已领取";

const RANK = { annotator: 1, checker: 2, manager: 3, admin: 4 };

export function hasRole(me, role) {
  return Boolean(me) && (RANK[me.role] || 0) >= RANK[role];
}

export const isManager = (me) => hasRole(me, "manager");
export const isAdmin = (me) => hasRole(me, "admin");
