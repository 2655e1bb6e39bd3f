# language: da
Egenskab: Flag om indsatserne
  BIP fandt, at borgere uden indsats ikke står stille, men går tilbage; derfor rejses et højt flag,
  når der ikke har været en aktiv indsats i tre måneder eller mere. Parallelle indsatser med et
  jobrettet element skaber mest progression, mens opkvalificering, sociale og helbredsrettede
  indsatser alene sjældent flytter borgeren mod arbejde; derfor flages igangværende indsatser uden
  jobrettet element, og en rent jobrettet indsats noteres som en chance for at lægge en parallel
  indsats til. Og når borgeren står over for sin femte praktik, skal man spørge, om endnu én giver
  mening. Scenarierne låser især grænserne fast: præcis tre måneder, og hvilke indsatser der tæller
  som aktive eller som praktikker (planlagte tæller med, aflyste gør ikke).

  Abstrakt Scenario: Tre måneder eller mere uden en aktiv indsats rejser et højt flag
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "hverdagsmestring" fra 2026-03-01 til <slut>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m" med alvor høj

    # 2026-08-22 til 2026-11-22 er præcis tre måneder (3,02 i motorens regning).
    Eksempler:
      | slut       |
      | 2026-08-22 |
      | 2026-06-30 |

  Scenarie: Mindre end tre måneder uden en aktiv indsats rejser ikke flaget
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "hverdagsmestring" fra 2026-03-01 til 2026-08-23
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m" ikke

  Scenarie: Uden nogen indsats tælles tiden fra første måling
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m" med alvor høj

  Scenarie: En ny borger, der først blev målt for nylig, har ikke ventet tre måneder
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-10-01 | 3    |
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m" ikke

  Abstrakt Scenario: En planlagt eller aflyst indsats er ikke en aktiv indsats
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-08-12 | 3    |
      | 2026-11-10 | 3    |
    Og en <status> indsats "virksomhedspraktik" fra <start>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m"

    Eksempler:
      | status   | start      |
      | planlagt | 2027-01-04 |
      | aflyst   | 2026-10-01 |

  Scenarie: En igangværende indsats forhindrer flaget
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-05-12 | 3    |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "hverdagsmestring" fra 2026-11-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_intervention_3m" ikke

  Abstrakt Scenario: Igangværende indsatser uden et jobrettet element rejser et flag
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "<første>" fra 2026-10-01
    Og en igangværende indsats "<anden>" fra 2026-10-15
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_job_oriented_element" med alvor middel
    Men flaget "job_oriented_only" rejses ikke

    # Social, opkvalificering og helbred – alene eller sammen – har intet jobrettet element.
    Eksempler:
      | første           | anden              |
      | hverdagsmestring | netværk            |
      | fagfaglig        | misbrugsbehandling |

  Scenarie: En jobrettet indsats ved siden af de andre fjerner flaget
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "hverdagsmestring" fra 2026-10-01
    Og en igangværende indsats "virksomhedspraktik" fra 2026-10-15
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_job_oriented_element" ikke
    Og flaget "job_oriented_only" rejses ikke

  Scenarie: Uden nogen igangværende indsats er der intet at flage som ikke-jobrettet
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "hverdagsmestring" fra 2026-03-01 til 2026-10-31
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_job_oriented_element" ikke

  Scenarie: En afsluttet jobrettet indsats tæller ikke som et jobrettet element nu
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "løntilskud" fra 2026-03-01 til 2026-10-31
    Og en igangværende indsats "hverdagsmestring" fra 2026-10-01
    Når tjekket køres den 2026-11-22
    Så rejses flaget "no_job_oriented_element"

  Abstrakt Scenario: Kun jobrettede indsatser i gang er en chance for en parallel indsats
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "<første>" fra 2026-10-01
    Og en igangværende indsats "<anden>" fra 2026-10-15
    Når tjekket køres den 2026-11-22
    Så rejses flaget "job_oriented_only" med alvor lav
    Men flaget "no_job_oriented_element" rejses ikke

    # To jobrettede indsatser er stadig kun én type.
    Eksempler:
      | første          | anden           |
      | ekstern_praktik | ekstern_praktik |
      | mentor          | løntilskud      |

  Abstrakt Scenario: En jobrettet indsats sammen med en anden type rejser ikke flaget om kun jobrettet
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en igangværende indsats "løntilskud" fra 2026-10-01
    Og en igangværende indsats "<anden>" fra 2026-10-15
    Når tjekket køres den 2026-11-22
    Så rejses flaget "job_oriented_only" ikke

    Eksempler:
      | anden              |
      | hverdagsmestring   |
      | fagfaglig          |
      | misbrugsbehandling |

  Scenarie: Fire praktikker rejser ikke flaget
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "ekstern_praktik" fra 2024-01-01 til 2024-02-29
    Og en afsluttet indsats "intern_praktik" fra 2024-06-01 til 2024-07-31
    Og en afsluttet indsats "virksomhedspraktik" fra 2025-01-01 til 2025-02-28
    Og en afsluttet indsats "ekstern_praktik" fra 2025-09-01 til 2025-10-31
    Når tjekket køres den 2026-11-22
    Så rejses flaget "fifth_internship" ikke

  Abstrakt Scenario: Den femte praktik rejser flaget, også når den er planlagt eller i gang
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "ekstern_praktik" fra 2024-01-01 til 2024-02-29
    Og en afsluttet indsats "intern_praktik" fra 2024-06-01 til 2024-07-31
    Og en afsluttet indsats "virksomhedspraktik" fra 2025-01-01 til 2025-02-28
    Og en afsluttet indsats "ekstern_praktik" fra 2025-09-01 til 2025-10-31
    Og en <status> indsats "<indsats>" fra <start>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "fifth_internship" med alvor middel

    Eksempler:
      | status       | indsats         | start      |
      | planlagt     | ekstern_praktik | 2027-01-04 |
      | igangværende | intern_praktik  | 2026-10-01 |

  Abstrakt Scenario: En aflyst praktik eller en anden jobrettet indsats er ikke en femte praktik
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "ekstern_praktik" fra 2024-01-01 til 2024-02-29
    Og en afsluttet indsats "intern_praktik" fra 2024-06-01 til 2024-07-31
    Og en afsluttet indsats "virksomhedspraktik" fra 2025-01-01 til 2025-02-28
    Og en afsluttet indsats "ekstern_praktik" fra 2025-09-01 til 2025-10-31
    Og en <status> indsats "<indsats>" fra <start>
    Når tjekket køres den 2026-11-22
    Så rejses flaget "fifth_internship" ikke

    Eksempler:
      | status       | indsats           | start      |
      | aflyst       | ekstern_praktik   | 2026-10-01 |
      | igangværende | virksomhedscenter | 2026-10-01 |
      | planlagt     | løntilskud        | 2027-01-04 |

  Scenarie: I fremgang skubbes der ikke på for en parallel indsats
    # Fremgang: handl hurtigt i stedet for at afsøge og igangsætte flere indsatser.
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-05-10 | 2    |
      | 2026-08-10 | 3    |
    Og en igangværende indsats "løntilskud" fra 2026-07-01
    Og en igangværende indsats "mentor" fra 2026-07-01
    Når tjekket køres den 2026-11-22
    Så er fasen Fremgang
    Og flaget "job_oriented_only" rejses ikke
    Og tjeklistepunkt 8 er ikke i fokus

  Scenarie: En praktik, der blev afbrudt efter to uger, tæller som praktik og som deltagelse
    Givet en borger med disse målinger:
      | dato       | alle |
      | 2026-11-10 | 3    |
    Og en afsluttet indsats "ekstern_praktik" fra 2024-01-01 til 2024-02-01
    Og en afsluttet indsats "ekstern_praktik" fra 2024-03-01 til 2024-04-01
    Og en afsluttet indsats "ekstern_praktik" fra 2024-05-01 til 2024-06-01
    Og en afsluttet indsats "ekstern_praktik" fra 2024-07-01 til 2024-08-01
    Og en afbrudt indsats "ekstern_praktik" fra 2026-09-01 til 2026-09-15
    Når tjekket køres den 2026-11-22
    Så rejses flaget "fifth_internship"
    Og flaget "no_intervention_3m" rejses ikke
