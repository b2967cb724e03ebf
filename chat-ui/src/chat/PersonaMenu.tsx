// The persona chip in the composer: shows who answers (pinned, or what the
// classifier picked last, with its confidence) and a menu to pin CTO, CRO,
// COO, CFO or go back to automatic.

import { type KeyboardEvent, useEffect, useId, useRef, useState } from "react";
import { percent, personaLabel } from "../format";
import type { PersonaChoice } from "./ChatProvider";
import { PERSONAS } from "./protocol";

const CHOICES: PersonaChoice[] = ["auto", ...PERSONAS];

const DESCRIPTION: Record<PersonaChoice, string> = {
  auto: "Pick from the question",
  cto: "Technology, data platform, security",
  cro: "Revenue, sales, pipeline, customers",
  coo: "Operations, SLAs, support, vendors",
  cfo: "Finance, costs, budgets, billing",
};

interface Props {
  value: PersonaChoice;
  onChange: (choice: PersonaChoice) => void;
  /** The persona the classifier picked for the latest answer. */
  detected: { persona: string; confidence: number | null } | null;
}

export function PersonaMenu({ value, onChange, detected }: Props) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const root = useRef<HTMLDivElement>(null);
  const menuId = useId();

  useEffect(() => {
    if (!open) return;
    menu.current?.querySelectorAll<HTMLElement>("[role=menuitemradio]")[active]?.focus();
  }, [open, active]);

  useEffect(() => {
    if (!open) return;
    const outside = (e: PointerEvent) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", outside);
    return () => document.removeEventListener("pointerdown", outside);
  }, [open]);

  function openMenu() {
    setActive(Math.max(0, CHOICES.indexOf(value)));
    setOpen(true);
  }

  function choose(choice: PersonaChoice) {
    onChange(choice);
    setOpen(false);
    button.current?.focus();
  }

  function onMenuKey(e: KeyboardEvent) {
    if (e.key === "ArrowDown") setActive((i) => (i + 1) % CHOICES.length);
    else if (e.key === "ArrowUp") setActive((i) => (i - 1 + CHOICES.length) % CHOICES.length);
    else if (e.key === "Home") setActive(0);
    else if (e.key === "End") setActive(CHOICES.length - 1);
    else if (e.key === "Escape" || e.key === "Tab") {
      setOpen(false);
      if (e.key === "Escape") button.current?.focus();
      return;
    } else return;
    e.preventDefault();
  }

  const shown = value === "auto" ? (detected?.persona ?? null) : value;
  const label =
    value === "auto"
      ? detected
        ? `Auto · ${personaLabel(detected.persona)} ${percent(detected.confidence)}`
        : "Auto"
      : `${personaLabel(value)} · pinned`;

  return (
    <div className="persona-menu" ref={root}>
      <button
        ref={button}
        type="button"
        className="chip persona-chip"
        data-persona={shown ?? "auto"}
        data-testid="persona-chip"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={`Persona: ${label}. Change persona`}
        onClick={() => (open ? setOpen(false) : openMenu())}
        onKeyDown={(e) => {
          if (e.key === "ArrowDown" || e.key === "ArrowUp") {
            e.preventDefault();
            openMenu();
          }
        }}
      >
        <span className="chip__dot" aria-hidden="true" />
        {label}
      </button>
      {open && (
        <ul
          ref={menu}
          id={menuId}
          role="menu"
          aria-label="Answer as"
          className="menu"
          data-testid="persona-menu"
          onKeyDown={onMenuKey}
        >
          {CHOICES.map((choice, i) => (
            <li
              key={choice}
              role="menuitemradio"
              aria-checked={choice === value}
              tabIndex={i === active ? 0 : -1}
              className="menu__item"
              data-persona={choice}
              data-testid={`persona-option-${choice}`}
              onClick={() => choose(choice)}
              onKeyDown={(e) => {
                if (e.key === "Enter" || e.key === " ") {
                  e.preventDefault();
                  choose(choice);
                }
              }}
            >
              <span className="menu__label">{choice === "auto" ? "Auto" : personaLabel(choice)}</span>
              <span className="menu__hint">{DESCRIPTION[choice]}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
