import { useEffect } from "react";

/** Sets the tab title to "AOS <feature>". */
export function usePageTitle(feature: string): void {
  useEffect(() => {
    document.title = `AOS ${feature}`;
  }, [feature]);
}
