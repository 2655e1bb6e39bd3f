# language: da
Egenskab: Reglerne gælder pr. en dato
  Tjekket bruger de regler, der gælder på tjekkets dato, medmindre scenariet siger andet med
  "Givet reglerne gælder pr. <dato>". Standardreglerne har ingen daterede ændringer: samme borger
  får samme fase under reglerne for 2026 og for 2027. Får standardreglerne en dateret ændring (en
  regel eller parameter med valid_from / valid_to), skal disse scenarier rettes, så ændringen ses her.

  Scenarie: Et fald på 0,4 er tilbagegang under reglerne for 2026
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-08-12 | 3             | 3                     | 3               | 3           | 3            |
      | 2026-11-10 | 2             | 2                     | 3               | 3           | 3            |
    Og reglerne gælder pr. 2026-12-31
    Når tjekket køres den 2026-11-22
    Så er fasen Tilbagegang
    Og fasen afgøres af reglen "regress_fall"

  Scenarie: Det samme fald er også tilbagegang under reglerne for 2027
    Givet en borger med disse målinger:
      | dato       | health_coping | opportunity_knowledge | work_confidence | cooperation | wage_realism |
      | 2026-08-12 | 3             | 3                     | 3               | 3           | 3            |
      | 2026-11-10 | 2             | 2                     | 3               | 3           | 3            |
    Og reglerne gælder pr. 2027-01-01
    Når tjekket køres den 2026-11-22
    Så er fasen Tilbagegang
