"""Pictures of scores: quality-map figures (:mod:`.figure`) and collection reports (:mod:`.report`)."""
